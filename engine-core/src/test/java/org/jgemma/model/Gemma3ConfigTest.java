package org.jgemma.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufValue;
import org.jgemma.gguf.GgufWriter;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.Test;

/**
 * Gemma3Config against the fixtures' HF configs (models/fixtures/* /hf-config.json) and the llama.cpp / Ollama rules of
 * FACTS §3.1 and §6.2, on synthetic metadata written with GgufWriter.
 */
class Gemma3ConfigTest {

    private static final String P = "gemma3.";

    @Test
    void tinyMatchesItsHfConfig() throws Exception {
        try (GgufFile f = GgufFile.open(Fixtures.file("tiny/gemma3-tiny-f32.gguf"))) {
            Gemma3Config c = Gemma3Config.from(f);
            // hf-config.json: hidden 256, 6 layers, 4 heads, 1 kv head, head_dim 64, ff 256, vocab 1024, window 8,
            // layer_types 5 x sliding + full, rope 1e6 / 1e4, eps 1e-6, max_position_embeddings 4096, query_pre_attn_scalar 64
            assertEquals(256, c.nEmbd());
            assertEquals(6, c.nLayer());
            assertEquals(4, c.nHead());
            assertEquals(1, c.nHeadKv());
            assertEquals(64, c.headDim());
            assertEquals(256, c.nFf());
            assertEquals(1024, c.nVocab());
            assertEquals(8, c.slidingWindow());
            assertArrayEquals(new boolean[] {true, true, true, true, true, false}, c.localLayers());
            assertEquals(1e6f, c.ropeBaseGlobal());
            assertEquals(1e4f, c.ropeBaseLocal());
            assertEquals(1f, c.ropeScaleGlobal());
            assertEquals(1e-6f, c.eps());
            assertEquals(4096, c.contextLength());
            assertEquals(0.125f, c.attentionScale());
            assertEquals(0f, c.finalLogitSoftcap());
            assertFalse(c.ollama());
            assertEquals(8, c.window(0));
            assertEquals(0, c.window(5));
            assertEquals(1e4f, c.ropeBase(4));
            assertEquals(1e6f, c.ropeBase(5));
        }
    }

    @Test
    void tinygqaHasLinearRopeScalingOnGlobalLayersOnly() throws Exception {
        try (GgufFile f = GgufFile.open(Fixtures.file("tinygqa/gemma3-tinygqa-q4_k_m.gguf"))) {
            Gemma3Config c = Gemma3Config.from(f);
            // hf-config.json: 2 kv heads, window 16, full_attention rope linear factor 8
            assertEquals(2, c.nHeadKv());
            assertEquals(16, c.slidingWindow());
            assertEquals(0.125f, c.ropeScale(5));
            assertEquals(1f, c.ropeScale(0));
        }
    }

    /** Metadata of a llama.cpp-converted gemma3 file with a 27B-like shape, edited by {@code edit}. */
    static Gemma3Config config(Consumer<GgufWriter> edit) {
        GgufWriter w = new GgufWriter();
        w.put("general.architecture", GgufValue.ofString("gemma3"));
        w.put(P + "context_length", GgufValue.ofUInt32(131072));
        w.put(P + "embedding_length", GgufValue.ofUInt32(64));
        w.put(P + "block_count", GgufValue.ofUInt32(14));
        w.put(P + "feed_forward_length", GgufValue.ofUInt32(128));
        w.put(P + "attention.head_count", GgufValue.ofUInt32(4));
        w.put(P + "attention.head_count_kv", GgufValue.ofUInt32(2));
        w.put(P + "attention.key_length", GgufValue.ofUInt32(32));
        w.put(P + "attention.value_length", GgufValue.ofUInt32(32));
        w.put(P + "attention.layer_norm_rms_epsilon", GgufValue.ofFloat32(1e-6f));
        w.put(P + "rope.freq_base", GgufValue.ofFloat32(1e6f));
        w.put(P + "attention.sliding_window", GgufValue.ofUInt32(1024));
        edit.accept(w);
        // the embedding's rows are as wide as the (edited) embedding_length: the config checks the two agree
        GgufValue embd = w.metadata().get(P + "embedding_length");
        int width = embd != null && embd.value() instanceof Number n ? n.intValue() : 64;
        w.addTensor("token_embd.weight", GgmlType.F32, new long[] {width, 40}, new byte[width * 40 * 4]);
        try {
            return Gemma3Config.from(GgufFile.parse(MemorySegment.ofArray(w.toByteArray())));
        } catch (org.jgemma.gguf.GgufFormatException e) {
            throw new AssertionError("GgufWriter output did not parse", e);
        }
    }

    @Test
    void llamaCppDefaults() {
        Gemma3Config c = config(w -> {});
        assertEquals(1e4f, c.ropeBaseLocal(), "rope.freq_base_swa default 10000");
        assertEquals(1f, c.ropeScaleGlobal(), "no scaling keys -> no scaling (llama.cpp file)");
        assertFalse(c.ollama());
        assertEquals(40, c.nVocab());
        // il % 6 < 5 is local: 5 and 11 global, the trailing 12, 13 local
        for (int il = 0; il < 14; il++) assertEquals(il % 6 < 5, c.isLocal(il), "layer " + il);
        assertEquals(1f / (float) Math.sqrt(32f), c.attentionScale());
    }

    @Test
    void missingRopeBaseWithoutOllamaMarkersIsLlamaCppDefault() {
        Gemma3Config c = config(w -> w.remove(P + "rope.freq_base"));
        assertEquals(10000f, c.ropeBaseGlobal());
    }

    @Test
    void ollamaBlobWithoutEpsAndRopeKeysGetsShimDefaults() {
        // 4B/12B/27B Ollama blobs: no eps, no rope keys, context 131072 -> eps 1e-6, 1e6 / 1e4, linear x8
        Gemma3Config c = config(w -> w.remove(P + "attention.layer_norm_rms_epsilon").remove(P + "rope.freq_base"));
        assertTrue(c.ollama());
        assertEquals(1e-6f, c.eps());
        assertEquals(1e6f, c.ropeBaseGlobal());
        assertEquals(1e4f, c.ropeBaseLocal());
        assertEquals(0.125f, c.ropeScaleGlobal());
        assertEquals(1f, c.ropeScale(0));
    }

    @Test
    void ollamaShortContextGetsNoScaling() {
        Gemma3Config c = config(w -> w.remove(P + "attention.layer_norm_rms_epsilon").remove(P + "rope.freq_base")
                .put(P + "context_length", GgufValue.ofUInt32(32768)));
        assertEquals(1f, c.ropeScaleGlobal());
    }

    @Test
    void ollama1bRopeKeyNamesAndSoftcap() {
        Gemma3Config c = config(w -> w.remove(P + "rope.freq_base")
                .put(P + "rope.global.freq_base", GgufValue.ofFloat32(1e6f))
                .put(P + "rope.local.freq_base", GgufValue.ofFloat32(5e3f))
                .put(P + "final_logit_softcapping", GgufValue.ofFloat32(30f))
                .put(P + "context_length", GgufValue.ofUInt32(32768)));
        assertTrue(c.ollama());
        assertEquals(1e6f, c.ropeBaseGlobal());
        assertEquals(5e3f, c.ropeBaseLocal());
        assertEquals(30f, c.finalLogitSoftcap());
        assertEquals(1f, c.ropeScaleGlobal());
    }

    @Test
    void visionTensorsMarkOllamaAndAreIgnored() {
        Gemma3Config c = config(w -> w.addTensor("v.blk.0.attn_q.weight", GgmlType.F32, new long[] {4, 4}, new byte[64]));
        assertTrue(c.ollama());
        assertEquals(0.125f, c.ropeScaleGlobal(), "no scaling keys, context 131072: the shim injects linear x8");
    }

    @Test
    void swaPatternArrayIsIgnoredAndNoWindowMeansNoSwa() {
        boolean[] flags = new boolean[14];
        Gemma3Config c = config(w -> w.put(P + "attention.sliding_window_pattern", GgufValue.array(
                org.jgemma.gguf.GgufValueType.BOOL, new byte[14])));
        for (int il = 0; il < 14; il++) assertEquals(il % 6 < 5, c.isLocal(il), "array pattern ignored, layer " + il);
        Gemma3Config none = config(w -> w.remove(P + "attention.sliding_window"));
        assertArrayEquals(flags, none.localLayers());
        assertEquals(none.ropeBaseGlobal(), none.ropeBase(0));
        Gemma3Config p4 = config(w -> w.put(P + "attention.sliding_window_pattern", GgufValue.ofUInt32(4)));
        for (int il = 0; il < 14; il++) assertEquals(il % 4 < 3, p4.isLocal(il), "pattern 4, layer " + il);
    }

    @Test
    void scalingTypeNoneForcesScaleOne() {
        Gemma3Config c = config(w -> w.put(P + "rope.scaling.type", GgufValue.ofString("none"))
                .put(P + "rope.scaling.factor", GgufValue.ofFloat32(8f)));
        assertEquals(1f, c.ropeScaleGlobal());
        Gemma3Config lin = config(w -> w.put(P + "rope.scaling.type", GgufValue.ofString("linear"))
                .put(P + "rope.scaling.factor", GgufValue.ofFloat32(8f)));
        assertEquals(0.125f, lin.ropeScaleGlobal());
    }

    @Test
    void attentionScaleOf27bUsesEmbdOverHeads() {
        // 62 layers: 1/sqrt(n_embd / n_head) = 1/sqrt(5376/32) = 1/sqrt(168), head_dim 128
        Gemma3Config c = config(w -> w.put(P + "block_count", GgufValue.ofUInt32(62))
                .put(P + "embedding_length", GgufValue.ofUInt32(5376)).put(P + "attention.head_count", GgufValue.ofUInt32(32))
                .put(P + "attention.head_count_kv", GgufValue.ofUInt32(16)).put(P + "attention.key_length", GgufValue.ofUInt32(128))
                .put(P + "attention.value_length", GgufValue.ofUInt32(128)));
        assertEquals(1f / (float) Math.sqrt(168f), c.attentionScale());
        assertFalse(c.isLocal(59));
        assertTrue(c.isLocal(60) && c.isLocal(61));
    }

    @Test
    void headDimDefaultsToEmbdOverHeads() {
        Gemma3Config c = config(w -> w.remove(P + "attention.key_length").remove(P + "attention.value_length"));
        assertEquals(16, c.headDim());
    }

    @Test
    void errorsNameTheKey() {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> config(w -> w.remove(P + "block_count")));
        assertTrue(e.getMessage().contains("gemma3.block_count"), e.getMessage());
        e = assertThrows(ModelFormatException.class, () -> config(w -> w.put(P + "attention.head_count_kv", GgufValue.ofUInt32(3))));
        assertTrue(e.getMessage().contains("head_count_kv"), e.getMessage());
        e = assertThrows(ModelFormatException.class, () -> config(w -> w.put("general.architecture", GgufValue.ofString("llama"))));
        assertTrue(e.getMessage().contains("llama"), e.getMessage());
        e = assertThrows(ModelFormatException.class, () -> config(w -> w.put(P + "embedding_length", GgufValue.ofString("x"))));
        assertTrue(e.getMessage().contains("gemma3.embedding_length"), e.getMessage());
    }
}
