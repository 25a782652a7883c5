package org.jgemma.testing;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.gguf.GgufWriter;

/** Fixture models rewritten with hostile edits (metadata values, tokenizer arrays, tensor bytes). */
public final class HostileModels {
    private HostileModels() {}

    /** {@code src} copied through GgufWriter (byte-identical when {@code edit} does nothing) with {@code edit} applied. */
    public static GgufWriter copy(Path src, Consumer<GgufWriter> edit) throws IOException {
        try (GgufFile f = GgufFile.open(src)) {
            GgufWriter w = new GgufWriter().version(f.version()).putAll(f.metadata());
            for (GgufTensorInfo t : f.tensors()) {
                // copied to the heap: the writer outlives the mapping
                byte[] bytes = t.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                w.addTensor(t.name(), t.type(), t.ne(), MemorySegment.ofArray(bytes));
            }
            edit.accept(w);
            return w;
        }
    }

    /** {@link #copy} written to {@code dst}; returns {@code dst}. */
    public static Path write(Path src, Path dst, Consumer<GgufWriter> edit) throws IOException {
        copy(src, edit).write(dst);
        return dst;
    }
}
