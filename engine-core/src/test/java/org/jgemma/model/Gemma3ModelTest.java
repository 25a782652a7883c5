package org.jgemma.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jgemma.backend.Backend;
import org.jgemma.backend.reference.ReferenceBackend;
import org.jgemma.gguf.GgufFile;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Model mechanics on the tiny F32 fixture: chunked prefill, ring KV cache on local layers, greedy path, limits, hook. */
class Gemma3ModelTest {

    static GgufFile file;
    static Backend backend;
    static int[] prompt;

    @BeforeAll
    static void open() throws Exception {
        file = GgufFile.open(Fixtures.file("tiny/gemma3-tiny-f32.gguf"));
        backend = new ReferenceBackend();
        prompt = Fixtures.promptIds("tiny"); // 40 tokens; sliding window 8
    }

    @AfterAll
    static void close() {
        backend.close();
        file.close();
    }

    static float[] allLogits(Gemma3Model.Options o, int[] ids) {
        return Gemma3Model.load(file, backend, o).newSession().forward(ids, true);
    }

    @Test
    void prefillInChunksEqualsOneBatch() {
        float[] one = allLogits(new Gemma3Model.Options(64, 64, true), prompt);
        for (int batch : new int[] {1, 3, 8, 17}) {
            float[] chunked = allLogits(new Gemma3Model.Options(64, batch, true), prompt);
            assertTrue(maxAbs(one, chunked) <= 1e-6, "batch " + batch + ": max diff " + maxAbs(one, chunked));
        }
    }

    @Test
    void windowSizedCacheOnLocalLayersEqualsFullCache() {
        Gemma3Model ring = Gemma3Model.load(file, backend, new Gemma3Model.Options(64, 5, false));
        assertEquals(8 + 5, ring.kvSlots(0), "local layer: window + batch slots");
        assertEquals(64, ring.kvSlots(5), "global layer: the whole context");
        // 40 prompt tokens + 10 more one at a time: the ring of 13 slots wraps several times
        int[] more = {5, 77, 901, 3, 3, 250, 1000, 12, 600, 42};
        float[] full = run(Gemma3Model.load(file, backend, new Gemma3Model.Options(64, 5, true)), more);
        float[] windowed = run(ring, more);
        assertTrue(maxAbs(full, windowed) <= 1e-6, "max diff " + maxAbs(full, windowed));
    }

    private static float[] run(Gemma3Model m, int[] more) {
        Gemma3Model.Session s = m.newSession();
        float[] a = s.forward(prompt, true);
        float[] out = Arrays.copyOf(a, a.length + more.length * m.vocabSize());
        for (int i = 0; i < more.length; i++) {
            float[] r = s.forward(new int[] {more[i]}, false);
            System.arraycopy(r, 0, out, a.length + i * m.vocabSize(), r.length);
        }
        return out;
    }

    @Test
    void lastLogitsEqualLastRowAndDeviceGreedyEqualsHostArgmax() {
        Gemma3Model m = Gemma3Model.load(file, backend, 64);
        float[] all = m.newSession().forward(prompt, true);
        float[] last = m.newSession().forward(prompt, false);
        int nv = m.vocabSize();
        assertArrayEquals(Arrays.copyOfRange(all, (prompt.length - 1) * nv, prompt.length * nv), last, 0f);
        // greedy tokens of llama.cpp and HF (tiny/expected-f32.bin, exact-f32.bin)
        int[] want = Fixtures.reference("tiny", "exact", "f32").generated();
        Gemma3Model.Session s = m.newSession();
        int next = s.nextGreedy(prompt);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], next, "greedy step " + i);
            next = s.nextGreedy(new int[] {next});
        }
        assertEquals(prompt.length + want.length, s.position());
    }

    @Test
    void promptThatDoesNotFitIsRefusedClearly() {
        Gemma3Model m = Gemma3Model.load(file, backend, 32);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.newSession().forward(prompt, false));
        assertTrue(e.getMessage().contains("40 tokens") && e.getMessage().contains("32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Gemma3Model.load(file, backend, 4097), "beyond context_length 4096");
        assertThrows(IllegalArgumentException.class, () -> m.newSession().forward(new int[] {1024}, false), "token outside the vocabulary");
    }

    @Test
    void debugHookSeesNamedIntermediates() {
        Gemma3Model m = Gemma3Model.load(file, backend, 64);
        Gemma3Model.Session s = m.newSession();
        List<String> seen = new ArrayList<>();
        float[] firstEmbd = new float[256];
        s.setDebugHook((name, layer, buf, rows, cols) -> {
            seen.add(name + "/" + layer);
            if (name.equals("inp_scaled")) backend.read(buf, 0, firstEmbd, 0, cols);
        });
        s.forward(new int[] {2, 105}, false);
        assertEquals("inp_scaled/-1", seen.get(0));
        assertTrue(seen.contains("kqv_out/5") && seen.contains("l_out/5") && seen.contains("result_output/-1"), seen.toString());
        // x = token_embd[2] * sqrtf(256) = 16 x the row (FACTS §3.4 step 1-2)
        float[] row = new float[256];
        org.jgemma.ggml.Dequantize.dequantizeRow(org.jgemma.ggml.GgmlType.F32,
                file.findTensor("token_embd.weight").orElseThrow().data(), 2L * 256 * 4, row, 0, 256);
        for (int i = 0; i < 256; i++) assertEquals(row[i] * 16f, firstEmbd[i], 0f);
    }

    /** A copy of tiny in memory with tensor {@code name} replaced (or dropped when null) and a v.* vision tensor added. */
    static GgufFile edited(String name, org.jgemma.gguf.GgufWriter.Tensor replacement) throws Exception {
        org.jgemma.gguf.GgufWriter w = new org.jgemma.gguf.GgufWriter().putAll(file.metadata());
        for (org.jgemma.gguf.GgufTensorInfo t : file.tensors()) {
            if (!t.name().equals(name)) w.addTensor(t.name(), t.type(), t.ne(), t.data());
            else if (replacement != null) w.addTensor(replacement.name(), replacement.type(), replacement.ne(), replacement.data());
        }
        // an Ollama-style vision tensor: must be ignored by the text model
        w.addTensor("v.blk.0.attn_k.weight", org.jgemma.ggml.GgmlType.F32, new long[] {8, 3}, new byte[8 * 3 * 4]);
        return GgufFile.parse(java.lang.foreign.MemorySegment.ofArray(w.toByteArray()));
    }

    @Test
    void weightsAreCheckedAndOutputIsTied() throws Exception {
        Gemma3Model m = Gemma3Model.load(file, backend, 64);
        assertTrue(m.weights().tiedOutput(), "tiny has no output.weight: tied to token_embd");
        assertEquals(6, m.weights().layers().size());
        // wrong shape: blk.3.attn_k.weight must be [n_embd, n_head_kv*hd] = [256, 64]
        GgufFile bad = edited("blk.3.attn_k.weight", new org.jgemma.gguf.GgufWriter.Tensor("blk.3.attn_k.weight",
                org.jgemma.ggml.GgmlType.F32, new long[] {256, 128}, java.lang.foreign.MemorySegment.ofArray(new byte[256 * 128 * 4])));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Gemma3Model.load(bad, backend, 64));
        assertTrue(e.getMessage().contains("blk.3.attn_k.weight") && e.getMessage().contains("[256, 64]")
                && e.getMessage().contains("[256, 128]"), e.getMessage());
        GgufFile missing = edited("blk.5.post_ffw_norm.weight", null);
        e = assertThrows(ModelFormatException.class, () -> Gemma3Model.load(missing, backend, 64));
        assertTrue(e.getMessage().contains("blk.5.post_ffw_norm.weight"), e.getMessage());
        // with the extra v.* tensor only (Ollama marker), the same weights give the same logits
        GgufFile withVision = edited("no-such-tensor", null);
        Gemma3Model mv = Gemma3Model.load(withVision, backend, 64);
        assertTrue(mv.config().ollama());
        assertArrayEquals(m.newSession().forward(prompt, false), mv.newSession().forward(prompt, false), 0f);
    }

    @Test
    void forwardEachDeliversEveryRowOfForwardAll() {
        float[] all = allLogits(new Gemma3Model.Options(64, 16, false), prompt);
        int nv = Gemma3Config.from(file).nVocab();
        float[] rows = new float[all.length];
        int[] next = {0};
        Gemma3Model.load(file, backend, new Gemma3Model.Options(64, 16, false)).newSession().forwardEach(prompt, (first, n, buf) -> {
            assertEquals(next[0], first, "rows arrive in order");
            assertTrue(n >= 1 && n <= 8, "a few rows at a time, not " + n);
            System.arraycopy(buf, 0, rows, first * nv, n * nv);
            next[0] += n;
        });
        assertEquals(prompt.length, next[0]);
        assertArrayEquals(all, rows, 0f);
    }

    /**
     * Issue #16: perplexity at --ctx-size 8192 on a 262144-token vocabulary printed -2147483648 (8192 * 262144 floats
     * overflowed int). All logits at once must be refused clearly (forwardEach streams them instead), never overflow.
     */
    @Test
    void allLogitsThatCannotFitOneArrayAreRefusedClearly() throws Exception {
        int vocab = 262144, ctx = 8192;
        org.jgemma.gguf.GgufWriter w = new org.jgemma.gguf.GgufWriter().putAll(file.metadata());
        w.put("gemma3.context_length", org.jgemma.gguf.GgufValue.ofUInt32(ctx));
        for (org.jgemma.gguf.GgufTensorInfo t : file.tensors()) {
            if (t.name().equals("token_embd.weight")) {
                long n = (long) vocab * t.ne()[0];
                w.addTensor(t.name(), org.jgemma.ggml.GgmlType.Q4_0, new long[] {t.ne()[0], vocab},
                        new byte[(int) org.jgemma.ggml.GgmlType.Q4_0.byteSize(n)]);
            } else {
                w.addTensor(t.name(), t.type(), t.ne(), t.data());
            }
        }
        GgufFile big = GgufFile.parse(java.lang.foreign.MemorySegment.ofArray(w.toByteArray()));
        Gemma3Model m = Gemma3Model.load(big, backend, new Gemma3Model.Options(ctx, 512, false));
        assertEquals(vocab, m.config().nVocab());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.newSession().forward(new int[ctx], true));
        assertTrue(e.getMessage().contains("forwardEach") && e.getMessage().contains("2147483648"), e.getMessage());
    }

    static double maxAbs(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
