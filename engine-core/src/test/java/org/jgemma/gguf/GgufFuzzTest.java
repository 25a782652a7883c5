package org.jgemma.gguf;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.MemorySegment;

/**
 * Jazzer fuzz target: any byte string given to {@link GgufFile#parse} either parses or fails with a
 * {@link GgufFormatException}; anything else (IndexOutOfBounds, OutOfMemoryError, StackOverflowError, a hang
 * caught by Jazzer's timeout) is a bug.
 * <p>A normal {@code test} run replays the seed corpus in {@code src/test/resources/org/jgemma/gguf/GgufFuzzTestInputs/parse}
 * (regression mode). To fuzz, with coverage guidance, for {@code maxDuration}:
 * <pre>JAZZER_FUZZ=1 ./mvnw -pl engine-core test -Dtest=GgufFuzzTest</pre>
 * Crashing inputs are then written next to the seeds; commit them as regression cases after fixing the bug.
 */
class GgufFuzzTest {
    @FuzzTest(maxDuration = "5m")
    void parse(byte[] input) {
        try {
            GgufFile f = GgufFile.parse(MemorySegment.ofArray(input));
            // touch what callers touch: every value and every tensor view
            f.metadata().values().forEach(v -> v.render(4));
            for (GgufTensorInfo t : f.tensors()) {
                if (t.data().byteSize() != t.byteSize()) throw new AssertionError("view size of " + t.name());
                t.rowCount();
            }
        } catch (GgufFormatException expected) {
            // a malformed file, reported as such
        }
    }
}
