package org.jgemma.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.function.Consumer;
import org.jgemma.api.GenerationOptions;
import org.jgemma.api.GenerationResult;
import org.jgemma.api.Model;
import org.jgemma.api.ModelOptions;
import org.jgemma.api.Session;
import org.jgemma.api.TokenListener;
import org.jgemma.gguf.GgufValue;
import org.jgemma.gguf.GgufWriter;
import org.jgemma.testing.Fixtures;
import org.jgemma.testing.HostileModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sizes from metadata are checked, against bounds and against the tensor shapes, before anything is sized from them:
 * a 4-byte edit of the tiny fixture must give a {@link ModelFormatException} naming the key, its value and what it
 * contradicts, never an {@code OutOfMemoryError}, an overflowed cache or a late failure inside a kernel.
 */
class Gemma3HostileConfigTest {
    private static final String P = "gemma3.";

    @TempDir
    Path tmp;

    private Path edited(Consumer<GgufWriter> edit) throws Exception {
        return HostileModels.write(Fixtures.file("tiny/gemma3-tiny-f32.gguf"), tmp.resolve("edited.gguf"), edit);
    }

    private ModelFormatException refused(Consumer<GgufWriter> edit, String... mentions) throws Exception {
        Path p = edited(edit);
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> Model.open(p, ModelOptions.defaults().withBackend("reference").withContextSize(64)).close());
        for (String m : mentions) assertTrue(e.getMessage().contains(m), "'" + m + "' not in: " + e.getMessage());
        return e;
    }

    @Test
    void hugeBlockCount() throws Exception {
        refused(w -> w.put(P + "block_count", GgufValue.ofUInt32(2147483647L)), "gemma3.block_count", "2147483647");
    }

    @Test
    void blockCountOtherThanTheBlocksPresent() throws Exception {
        refused(w -> w.put(P + "block_count", GgufValue.ofUInt32(5)), "gemma3.block_count", "6 blocks");
        refused(w -> w.put(P + "block_count", GgufValue.ofUInt32(7)), "gemma3.block_count", "6 blocks");
    }

    @Test
    void headCountTimesKeyLengthWrapping() throws Exception {
        // 65536 x 65536 = 2^32 wraps to 0 in int arithmetic
        refused(w -> {
            w.put(P + "attention.head_count", GgufValue.ofUInt32(65536));
            w.put(P + "attention.head_count_kv", GgufValue.ofUInt32(65536));
            w.put(P + "attention.key_length", GgufValue.ofUInt32(65536));
            w.put(P + "attention.value_length", GgufValue.ofUInt32(65536));
            w.put(P + "rope.dimension_count", GgufValue.ofUInt32(65536));
        }, "gemma3.attention.head_count", "65536");
    }

    @Test
    void headCountContradictingTheProjection() throws Exception {
        refused(w -> {
            w.put(P + "attention.head_count", GgufValue.ofUInt32(8));
        }, "gemma3.attention.head_count", "8 x key_length 64 = 512", "blk.0.attn_q.weight");
    }

    @Test
    void widthsContradictingTheTensors() throws Exception {
        refused(w -> w.put(P + "embedding_length", GgufValue.ofUInt32(128)), "gemma3.embedding_length", "128", "token_embd.weight");
        refused(w -> w.put(P + "feed_forward_length", GgufValue.ofUInt32(512)), "gemma3.feed_forward_length", "512", "ffn_gate");
    }

    @Test
    void hugeContextAndWindow() throws Exception {
        refused(w -> w.put(P + "context_length", GgufValue.ofUInt32(4294967295L)), "gemma3.context_length");
        refused(w -> w.put(P + "attention.sliding_window", GgufValue.ofUInt32(2147483000L)), "gemma3.attention.sliding_window");
    }

    @Test
    void aWindowNearTheBoundStillRuns() throws Exception {
        // window + batch must not overflow when the window is at its bound: the cache is then the context's size
        Path p = edited(w -> w.put(P + "attention.sliding_window", GgufValue.ofUInt32(Gemma3Config.MAX_CONTEXT)));
        try (Model m = Model.open(p, ModelOptions.defaults().withBackend("reference").withContextSize(64));
             Session s = m.newSession()) {
            GenerationResult r = s.generate(new int[] {2, 10, 20}, GenerationOptions.greedy(3), TokenListener.NONE);
            assertEquals(3, r.tokens().length);
        }
    }
}
