package org.jgemma.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.jgemma.api.GenerationOptions;
import org.jgemma.api.Model;
import org.jgemma.api.ModelOptions;
import org.jgemma.api.Session;
import org.jgemma.api.TokenListener;
import org.jgemma.gguf.GgufWriter;
import org.jgemma.testing.Fixtures;
import org.jgemma.testing.HostileModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NaN or Inf weights stop the generation with a clear error instead of {@code <pad>} forever. */
class NonFiniteWeightsTest {
    @TempDir
    Path tmp;

    private void poisoned(String tensor, float value) throws Exception {
        Path p = HostileModels.write(Fixtures.file("tiny/gemma3-tiny-f32.gguf"), tmp.resolve("nan.gguf"), w -> {
            for (GgufWriter.Tensor t : w.tensors()) {
                if (t.name().equals(tensor)) {
                    MemorySegment d = t.data();
                    for (long o = 0; o < d.byteSize(); o += 4) d.set(ValueLayout.JAVA_FLOAT_UNALIGNED, o, value);
                }
            }
        });
        for (float temperature : new float[] {0f, 0.8f}) {
            try (Model m = Model.open(p, ModelOptions.defaults().withBackend("reference").withContextSize(32));
                 Session s = m.newSession()) {
                ModelFormatException e = assertThrows(ModelFormatException.class, () -> s.generate(new int[] {2, 10, 20},
                        GenerationOptions.greedy(4).withTemperature(temperature), TokenListener.NONE));
                assertTrue(e.getMessage().contains("non-finite logit"), e.getMessage());
            }
        }
    }

    @Test
    void nanWeights() throws Exception {
        poisoned("output_norm.weight", Float.NaN);
    }

    @Test
    void infiniteWeights() throws Exception {
        poisoned("blk.0.ffn_down.weight", Float.POSITIVE_INFINITY);
    }
}
