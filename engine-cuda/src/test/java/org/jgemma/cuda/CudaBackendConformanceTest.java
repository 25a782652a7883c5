package org.jgemma.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendConformanceTest;
import org.jgemma.backend.Buffer;
import org.jgemma.backend.IntBuffer;
import org.jgemma.backend.KvBuffer;
import org.jgemma.backend.TestWeights;
import org.jgemma.backend.Weight;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The conformance suite on the CUDA backend, plus the real gemma3 shapes: rows of n_embd 640/1152/2560/3840/5376
 * (270M, 1B, 4B, 12B, 27B), head_dim 256 and 128, GQA ratios 1, 2, 4, 8, batches of 1, 7, 64 and 512 tokens
 * (mat-vec chunks of 8, 4, 2, 1 columns), sliding windows whose edge falls inside the batch and a ring cache that wraps,
 * and attention spans long enough for several flash-decoding splits. The Maven build runs it on the host driver (the
 * kernels compiled for the CPU, {@code jgemma.cuda.driver=host}); sizes are chosen so it takes about a minute there.
 * On a GPU machine run it with {@code -Djgemma.cuda.driver=jcuda} (engine-cuda/run-on-gpu.sh).
 */
class CudaBackendConformanceTest extends BackendConformanceTest {
    static final int[] N_EMBD = {640, 1152, 2560, 3840, 5376};
    static final int[] BATCH = {1, 7, 64, 512};

    @Override
    protected Backend create() {
        return CudaTestSupport.create();
    }

    /** Row lengths of K-quant tensors: multiples of 256 (llama.cpp falls back to other types for 640 and 1152), 6912 = 1B n_ff. */
    static final int[] K_QUANT_K = {2560, 3840, 5376, 6912};

    /** Every weight type the kernels read, each with every batch size, the row length cycling through the n_embd values. */
    static Stream<Arguments> realMatmuls() {
        List<Arguments> a = new ArrayList<>();
        int i = 0;
        for (GgmlType t : Kernels.WEIGHT_TYPES) {
            int[] ks = t.blockSize == 256 ? K_QUANT_K : N_EMBD;
            for (int n : BATCH) a.add(Arguments.of(t, ks[i++ % ks.length], n));
        }
        return a.stream();
    }

    @ParameterizedTest(name = "matmul {0} K={1} n={2}")
    @MethodSource("realMatmuls")
    void matmulRealShapes(GgmlType type, int k, int n) {
        int rows = n >= 64 ? 24 : 72;  // rows only add blocks; keep the 512-column products small for the reference
        GgufTensorInfo w = TestWeights.random("w", type, rows, k, 5000 + type.id + k);
        float[] x = TestWeights.gaussian(n * k, 1.0, 17 + n);
        float[] expected = matmul(ref, w, x, n, rows), actual = matmul(backend, w, x, n, rows);
        double err = relError(actual, expected), budget = MATMUL_BUDGET.get(type);
        assertTrue(err <= budget, () -> "cuda matmul " + type + " K=" + k + " n=" + n + ": error " + err + " > " + budget);
    }

    private static float[] matmul(Backend b, GgufTensorInfo w, float[] x, int n, int rows) {
        Weight wt = b.upload(w);
        Buffer xb = upload(b, x, "x"), out = b.allocate((long) n * rows, "out");
        b.matmul(wt, xb, n, out);
        return download(b, out, n * rows);
    }

    /**
     * Each fused kernel against the plain CUDA kernels it replaces, composed as the Backend SPI's default methods
     * compose them: equal bit for bit on the host driver (the same arithmetic in the same order; g++ builds with
     * -ffp-contract=off), within 1e-6 of the output's rms on a GPU (nvcc may contract a multiply-add differently).
     */
    @Test
    void fusedKernelsEqualTheComposedPlainKernels() {
        double tol = "host".equals(((CudaBackend) backend).driverKind()) ? 0 : 1e-6;
        int dim = 1152, rows = 3;  // gemma3 1B's width
        GgufTensorInfo post = TestWeights.random("post", GgmlType.F32, 1, dim, 1), next = TestWeights.random("next", GgmlType.F32, 1, dim, 2);
        float[] a = TestWeights.gaussian(rows * dim, 3.0, 3), x = TestWeights.gaussian(rows * dim, 10.0, 4);
        float[][] f = runNormAddNorm(backend, post, next, a, x, rows, dim, true, true);
        float[][] c = runNormAddNorm(backend, post, next, a, x, rows, dim, true, false);
        for (int i = 0; i < 3; i++) assertClose(c[i], f[i], tol, "rmsNormAddNorm output " + i);
        for (GgmlType[] t : new GgmlType[][] {{GgmlType.Q4_K, GgmlType.Q4_K}, {GgmlType.Q8_0, GgmlType.Q6_K}, {GgmlType.Q5_0, GgmlType.Q4_1}}) {
            GgufTensorInfo g = TestWeights.random("gate", t[0], 40, 2304, 5), u = TestWeights.random("up", t[1], 40, 2304, 6);
            for (int n : new int[] {1, 3, 8}) {
                float[] in = TestWeights.gaussian(n * 2304, 1.0, 7 + n);
                assertClose(runMatmulGeglu(backend, g, u, in, n, 40, false), runMatmulGeglu(backend, g, u, in, n, 40, true), tol,
                        "matmulGeglu " + t[0] + "," + t[1] + " n=" + n);
            }
        }
        for (int hd : new int[] {128, 256}) {
            int[] pos = {40, 41};
            float[][] fq = runQkNormRope(backend, 2, hd, 8, 4, 64, pos, true, true), cq = runQkNormRope(backend, 2, hd, 8, 4, 64, pos, true, false);
            for (int i = 0; i < 3; i++) assertClose(cq[i], fq[i], tol, "qkNormRopeAppend head_dim " + hd + " output " + i);
        }
    }

    private static void assertClose(float[] expected, float[] actual, double tol, String what) {
        if (tol == 0) assertArrayEquals(expected, actual, 0f, what + ": fused != composed");
        else assertTrue(relError(actual, expected) <= tol, () -> what + ": error " + relError(actual, expected));
    }

    @Test
    void rmsNormAndEmbedRealWidths() {
        for (int dim : N_EMBD) {
            int rows = 3;
            GgufTensorInfo w = TestWeights.random("norm", GgmlType.F32, 1, dim, dim);
            float[] x = TestWeights.gaussian(rows * dim, 2.0, dim + 1);
            double err = relError(norm(backend, w, x, rows, dim), norm(ref, w, x, rows, dim));
            assertTrue(err <= RMS_NORM_BUDGET, () -> "cuda rmsNorm dim " + dim + ": error " + err);
        }
        for (int hd : new int[] {128, 256}) {  // QK-norm: one row per head
            GgufTensorInfo w = TestWeights.random("qnorm", GgmlType.F32, 1, hd, hd);
            float[] x = TestWeights.gaussian(7 * 8 * hd, 2.0, hd + 2);
            double err = relError(norm(backend, w, x, 7 * 8, hd), norm(ref, w, x, 7 * 8, hd));
            assertTrue(err <= RMS_NORM_BUDGET, () -> "cuda rmsNorm head_dim " + hd + ": error " + err);
        }
        for (GgmlType t : List.of(GgmlType.Q6_K, GgmlType.Q8_0, GgmlType.BF16)) {  // the token_embd types of gemma3 files
            int dim = N_EMBD[t.ordinal() % N_EMBD.length];
            GgufTensorInfo table = TestWeights.random("token_embd", t, 50, dim, 77 + dim);
            int[] ids = {49, 0, 7, 7, 31, 2, 48};
            double err = relError(embed(backend, table, ids, dim), embed(ref, table, ids, dim));
            assertTrue(err <= EMBED_BUDGET, () -> "cuda embed " + t + " dim " + dim + ": error " + err);
        }
    }

    private static float[] norm(Backend b, GgufTensorInfo w, float[] x, int rows, int dim) {
        Weight wt = b.upload(w);
        Buffer xb = upload(b, x, "x");
        b.rmsNorm(xb, wt, rows, dim, 1e-6f, xb);
        return download(b, xb, x.length);
    }

    private static float[] embed(Backend b, GgufTensorInfo table, int[] ids, int dim) {
        Weight wt = b.upload(table);
        IntBuffer tok = uploadInts(b, ids, "tokens");
        Buffer out = b.allocate((long) ids.length * dim, "out");
        b.embed(wt, tok, ids.length, (float) Math.sqrt(dim), out);
        return download(b, out, ids.length * dim);
    }

    @Test
    void ropeRealHeadDims() {
        for (int hd : new int[] {128, 256}) {
            int n = 7, heads = 8;
            int[] pos = {0, 1, 511, 512, 4095, 32767, 131071};
            float[] x = TestWeights.gaussian(n * heads * hd, 1.0, hd);
            for (float[] bs : new float[][] {{10000f, 1f}, {1e6f, 0.125f}}) {
                double err = maxAbs(rope(backend, x, n, heads, hd, pos, bs[0], bs[1]), rope(ref, x, n, heads, hd, pos, bs[0], bs[1]));
                assertTrue(err <= ROPE_BUDGET, () -> "cuda rope head_dim " + hd + " base " + bs[0] + ": max abs error " + err);
            }
        }
    }

    private static float[] rope(Backend b, float[] x, int n, int heads, int hd, int[] pos, float base, float scale) {
        Buffer xb = upload(b, x, "x");
        b.rope(xb, n, heads, hd, uploadInts(b, pos, "pos"), base, scale);
        return download(b, xb, x.length);
    }

    /**
     * (head_dim, n_head, n_kv_head, batch, window, slots, chunks): the batch is appended {@code chunks} times at the
     * following positions with attention after each; windowed cases use a ring of window + batch slots (gemma3's local
     * layers), so the window's edge moves through the batch and the ring wraps.
     */
    static Stream<Arguments> realAttention() {
        return Stream.of(
                Arguments.of(256, 8, 1, 1, 0, 1536, 1),     // GQA 8 decode at position 1535: splits over a long span
                Arguments.of(128, 4, 4, 1, 512, 513, 1),    // GQA 1 decode, 512-key window over a 513-slot ring
                Arguments.of(128, 4, 2, 7, 16, 23, 6),      // GQA 2, window edge inside the batch, ring wraps
                Arguments.of(256, 8, 2, 64, 0, 192, 3),     // GQA 4 prefill in chunks of 64
                Arguments.of(256, 8, 1, 7, 0, 1100, 1),     // GQA 8, 7 queries at 1093..1099 over many splits
                Arguments.of(128, 2, 2, 512, 64, 576, 1));  // GQA 1 prefill of 512 with a 64-key window
    }

    @ParameterizedTest(name = "attention hd={0} heads={1}/{2} n={3} window={4} slots={5}")
    @MethodSource("realAttention")
    void attentionRealShapes(int hd, int nHead, int nKv, int n, int window, int slots, int chunks) {
        int start = n == 1 || n == 7 && window == 0 ? slots - n : 0;  // decode-like cases fill the cache first
        float[][] expected = attention(ref, hd, nHead, nKv, n, window, slots, chunks, start);
        float[][] actual = attention(backend, hd, nHead, nKv, n, window, slots, chunks, start);
        for (int c = 0; c < chunks; c++) {
            int cc = c;
            double err = relError(actual[c], expected[c]);
            assertTrue(err <= ATTENTION_BUDGET, () -> "cuda attention hd " + hd + " heads " + nHead + "/" + nKv + " n " + n
                    + " window " + window + " chunk " + cc + ": error " + err);
        }
    }

    private static float[][] attention(Backend b, int hd, int nHead, int nKv, int n, int window, int slots, int chunks, int start) {
        int kvDim = nKv * hd;
        KvBuffer cache = b.allocateKv(slots, kvDim, "kv");
        Buffer q = b.allocate((long) n * nHead * hd, "q"), k = b.allocate((long) Math.max(n, 64) * kvDim, "k"),
                v = b.allocate((long) Math.max(n, 64) * kvDim, "v"), out = b.allocate((long) n * nHead * hd, "out");
        IntBuffer pos = b.allocateInts(Math.max(n, 64), "pos");
        for (int p0 = 0; p0 < start; p0 += 64) {  // earlier positions, 64 at a time
            int m = Math.min(64, start - p0);
            append(b, k, v, pos, cache, p0, m, kvDim, 900 + p0);
        }
        float[][] outs = new float[chunks][];
        for (int c = 0; c < chunks; c++) {
            int p0 = start + c * n;
            append(b, k, v, pos, cache, p0, n, kvDim, 300 + c);
            float[] qs = TestWeights.gaussian(n * nHead * hd, 1.0, 100 + c);
            b.write(q, 0, qs, 0, qs.length);
            b.attention(q, cache, n, pos, nHead, nKv, hd, window, 1f / (float) Math.sqrt(hd), out);
            outs[c] = download(b, out, n * nHead * hd);
        }
        return outs;
    }

    private static void append(Backend b, Buffer k, Buffer v, IntBuffer pos, KvBuffer cache, int p0, int m, int kvDim, int seed) {
        int[] p = new int[m];
        for (int t = 0; t < m; t++) p[t] = p0 + t;
        b.writeInts(pos, p, m);
        float[] ks = TestWeights.gaussian(m * kvDim, 1.0, seed), vs = TestWeights.gaussian(m * kvDim, 1.0, seed + 1);
        b.write(k, 0, ks, 0, ks.length);
        b.write(v, 0, vs, 0, vs.length);
        b.kvAppend(k, v, m, pos, cache);
    }

    @Test
    void elementwiseAndArgmaxAtModelSizes() {
        int n = 7 * 10240;  // 7 tokens of the 4B model's n_ff
        float[] gate = TestWeights.gaussian(n, 3.0, 61), up = TestWeights.gaussian(n, 1.0, 62);
        Buffer g = upload(backend, gate, "gate"), u = upload(backend, up, "up");
        backend.geglu(g, u, n, g);
        backend.add(g, u, n);
        backend.softcap(g, n, 30f);
        Buffer rg = upload(ref, gate, "gate"), ru = upload(ref, up, "up");
        ref.geglu(rg, ru, n, rg);
        ref.add(rg, ru, n);
        ref.softcap(rg, n, 30f);
        double err = relError(download(backend, g, n), download(ref, rg, n));
        assertTrue(err <= GEGLU_BUDGET, () -> "cuda geglu+add+softcap at " + n + ": error " + err);

        int vocab = 262144;  // gemma3's vocabulary: one block of 1024 threads per row
        float[] logits = TestWeights.gaussian(2 * vocab, 1.0, 63);
        logits[vocab - 1] = 50f;
        logits[vocab + 123457] = 50f;
        logits[vocab + 200000] = 50f;  // tie: the lower index wins
        Buffer lb = upload(backend, logits, "logits");
        IntBuffer ib = backend.allocateInts(2, "ids");
        backend.argmax(lb, 2, vocab, ib);
        int[] ids = new int[2];
        backend.readInts(ib, ids, 2);
        assertArrayEquals(new int[] {vocab - 1, 123457}, ids);
    }
}
