package org.jgemma.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;
import org.jgemma.backend.reference.ReferenceBackend;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One conformance suite for every backend (STYLE 9, 10): each op of the Backend SPI on seeded random inputs, compared
 * with {@link ReferenceBackend} under the written error budget below. A backend module subclasses this and implements
 * {@link #create()}; if that throws {@link BackendUnavailableException} every test is skipped with its reason, and an
 * op/type the backend declares unsupported ({@link Backend#supportsOp}) is skipped, not failed.
 *
 * <p>Error measure: {@code max|out - ref| / rms(ref)} over the op's output, except where noted.
 */
public abstract class BackendConformanceTest {

    /**
     * Error budget for matmul (and embed) by weight type, as max|diff| / rms(ref). Floats: exact products, only the
     * summation order differs (F16/BF16 also allow activations rounded to that type). Quantized: allows activations
     * quantized to 8 bits (Q8_0 / Q8_1 / Q8_K) as llama.cpp's CPU dot products do (FACTS §2.3); Q8_K has one
     * scale per 256 values, so the K-quants get more room (ggml's generic Q4_K/Q6_K dot reaches 0.036 on these inputs).
     */
    public static final Map<GgmlType, Double> MATMUL_BUDGET = Map.ofEntries(
            Map.entry(GgmlType.F32, 1e-4), Map.entry(GgmlType.F16, 3e-3), Map.entry(GgmlType.BF16, 2e-2),
            Map.entry(GgmlType.Q8_0, 3e-2), Map.entry(GgmlType.Q4_0, 3e-2), Map.entry(GgmlType.Q4_1, 3e-2),
            Map.entry(GgmlType.Q5_0, 3e-2), Map.entry(GgmlType.Q5_1, 3e-2), Map.entry(GgmlType.Q2_K, 5e-2),
            Map.entry(GgmlType.Q3_K, 5e-2), Map.entry(GgmlType.Q4_K, 5e-2), Map.entry(GgmlType.Q5_K, 5e-2),
            Map.entry(GgmlType.Q6_K, 5e-2));
    /** embed: dequantization must be exact up to float rounding of the scale product. */
    public static final double EMBED_BUDGET = 1e-6;
    public static final double RMS_NORM_BUDGET = 1e-5;
    /** RoPE: absolute error on O(1) values (cos/sin of large angles lose a few ulps of the angle). */
    public static final double ROPE_BUDGET = 1e-4;
    /** attention: allows an F16 KV cache and Q rounded to F16 (llama.cpp's default, FACTS §3.7). */
    public static final double ATTENTION_BUDGET = 5e-3;
    /** geglu: allows ggml's fp16 GELU table (FACTS §3.8). */
    public static final double GEGLU_BUDGET = 3e-3;
    public static final double ELEMENTWISE_BUDGET = 1e-6;

    /** The backend under test; throw {@link BackendUnavailableException} if it cannot run here. */
    protected abstract Backend create();

    protected Backend backend;
    protected ReferenceBackend ref;

    @BeforeEach
    void open() {
        try {
            backend = create();
        } catch (BackendUnavailableException e) {
            assumeTrue(false, "backend unavailable: " + e.getMessage());
        }
        ref = new ReferenceBackend();
    }

    @AfterEach
    void closeBackends() {
        if (backend != null) backend.close();
        if (ref != null) ref.close();
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    /** max|a-b| / rms(b), with a tiny floor on the rms. */
    public static double relError(float[] a, float[] b) {
        assertEquals(b.length, a.length, "length");
        double max = 0, ss = 0;
        for (int i = 0; i < a.length; i++) {
            assertTrue(Float.isFinite(a[i]), () -> "non-finite output " + Arrays.toString(Arrays.copyOf(a, 8)));
            max = Math.max(max, Math.abs(a[i] - b[i]));
            ss += (double) b[i] * b[i];
        }
        return max / Math.max(1e-30, Math.sqrt(ss / a.length));
    }

    public static double maxAbs(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        return max;
    }

    protected static Buffer upload(Backend b, float[] data, String name) {
        Buffer buf = b.allocate(data.length, name);
        b.write(buf, 0, data, 0, data.length);
        return buf;
    }

    protected static IntBuffer uploadInts(Backend b, int[] data, String name) {
        IntBuffer buf = b.allocateInts(data.length, name);
        b.writeInts(buf, data, data.length);
        return buf;
    }

    protected static float[] download(Backend b, Buffer buf, int n) {
        float[] out = new float[n];
        b.read(buf, 0, out, 0, n);
        return out;
    }

    private void assumeSupported(Op op, GgmlType type) {
        assumeTrue(backend.supportsOp(op, type), () -> backend.name() + " does not support " + op + " on " + type);
        assumeTrue(ref.supportsOp(op, type), () -> "the reference cannot read " + type + " yet");
    }

    static Stream<Arguments> weightTypes() {
        return MATMUL_BUDGET.keySet().stream().sorted().flatMap(t -> Stream.of(Arguments.of(t, 1), Arguments.of(t, 5), Arguments.of(t, 13)));
    }

    // ---- ops --------------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "matmul {0} n={1}")
    @MethodSource("weightTypes")
    void matmul(GgmlType type, int n) {
        assumeSupported(Op.MATMUL, type);
        int cols = 512, rows = 96;
        GgufTensorInfo w = TestWeights.random("w", type, rows, cols, 1000 + type.id);
        float[] x = TestWeights.gaussian(n * cols, 1.0, 7 + n);
        float[] expected = runMatmul(ref, w, x, n, rows);
        float[] actual = runMatmul(backend, w, x, n, rows);
        double err = relError(actual, expected);
        double budget = MATMUL_BUDGET.get(type);
        assertTrue(err <= budget, () -> backend.name() + " matmul " + type + " n=" + n + ": error " + err + " > budget " + budget);
    }

    protected static float[] runMatmul(Backend b, GgufTensorInfo w, float[] x, int n, int rows) {
        Weight wt = b.upload(w);
        Buffer xb = upload(b, x, "x");
        Buffer out = b.allocate((long) n * rows, "out");
        b.matmul(wt, xb, n, out);
        return download(b, out, n * rows);
    }

    /** Weight types of the fused matmuls: one type per output, mixed as Q4_K_M files mix them (Q5_0 q/k, Q8_0 or Q6_K v). */
    static Stream<Arguments> fusedTypes() {
        return Stream.of(
                Arguments.of(GgmlType.Q5_0, GgmlType.Q5_0, GgmlType.Q6_K, 1),
                Arguments.of(GgmlType.Q5_0, GgmlType.Q5_0, GgmlType.Q8_0, 2),
                Arguments.of(GgmlType.Q8_0, GgmlType.Q8_0, GgmlType.Q8_0, 1),
                Arguments.of(GgmlType.Q4_K, GgmlType.Q4_1, GgmlType.Q8_0, 3),
                Arguments.of(GgmlType.Q4_K, GgmlType.F32, GgmlType.Q4_1, 1),
                Arguments.of(GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K, 5));
    }

    /**
     * matmul3 and matmul2 against separate matmuls on the reference: three weights of different row counts (and
     * types) on one input, each output under its type's matmul budget.
     */
    @ParameterizedTest(name = "matmul3/matmul2 {0},{1},{2} n={3}")
    @MethodSource("fusedTypes")
    void fusedMatmul(GgmlType t1, GgmlType t2, GgmlType t3, int n) {
        GgmlType[] types = {t1, t2, t3};
        for (GgmlType t : types) assumeSupported(Op.MATMUL, t);
        int cols = 512;
        int[] rows = {96, 40, 72};
        GgufTensorInfo[] w = new GgufTensorInfo[3];
        for (int i = 0; i < 3; i++) w[i] = TestWeights.random("w" + i, types[i], rows[i], cols, 3000 + 17 * i + types[i].id);
        float[] x = TestWeights.gaussian(n * cols, 1.0, 11 + n);
        float[][] expected = new float[3][];
        for (int i = 0; i < 3; i++) expected[i] = runMatmul(ref, w[i], x, n, rows[i]);

        Weight[] wt = new Weight[3];
        for (int i = 0; i < 3; i++) wt[i] = backend.upload(w[i]);
        Buffer xb = upload(backend, x, "x");
        Buffer[] out = new Buffer[3];
        for (int i = 0; i < 3; i++) out[i] = backend.allocate((long) n * rows[i], "out" + i);
        backend.matmul3(wt[0], wt[1], wt[2], xb, n, out[0], out[1], out[2]);
        for (int i = 0; i < 3; i++) {
            int o = i;
            double err = relError(download(backend, out[i], n * rows[i]), expected[i]);
            double budget = MATMUL_BUDGET.get(types[i]);
            assertTrue(err <= budget, () -> backend.name() + " matmul3 output " + o + " " + types[o] + " n=" + n + ": error " + err + " > budget " + budget);
        }
        // matmul2 on the last two, into fresh buffers
        Buffer o1 = backend.allocate((long) n * rows[1], "o1"), o2 = backend.allocate((long) n * rows[2], "o2");
        backend.matmul2(wt[1], wt[2], xb, n, o1, o2);
        double e1 = relError(download(backend, o1, n * rows[1]), expected[1]);
        double e2 = relError(download(backend, o2, n * rows[2]), expected[2]);
        assertTrue(e1 <= MATMUL_BUDGET.get(t2), () -> backend.name() + " matmul2 output 0 " + t2 + " n=" + n + ": error " + e1);
        assertTrue(e2 <= MATMUL_BUDGET.get(t3), () -> backend.name() + " matmul2 output 1 " + t3 + " n=" + n + ": error " + e2);
    }

    @ParameterizedTest(name = "embed {0}")
    @MethodSource("weightTypes")
    void embed(GgmlType type, int n) {
        assumeSupported(Op.EMBED, type);
        int cols = 256, rows = 40;
        GgufTensorInfo w = TestWeights.random("table", type, rows, cols, 2000 + type.id);
        int[] ids = n == 1 ? new int[] {39} : new int[] {3, 0, 17, 3, 39};
        float[] expected = runEmbed(ref, w, ids, cols);
        float[] actual = runEmbed(backend, w, ids, cols);
        double err = relError(actual, expected);
        assertTrue(err <= EMBED_BUDGET, () -> backend.name() + " embed " + type + ": error " + err);
    }

    private static float[] runEmbed(Backend b, GgufTensorInfo w, int[] ids, int cols) {
        Weight wt = b.upload(w);
        IntBuffer tok = uploadInts(b, ids, "tokens");
        Buffer out = b.allocate((long) ids.length * cols, "out");
        b.embed(wt, tok, ids.length, 16.0f, out);
        return download(b, out, ids.length * cols);
    }

    @Test
    void rmsNorm() {
        int rows = 6, dim = 320;
        GgufTensorInfo w = TestWeights.random("norm", GgmlType.F32, 1, dim, 31);
        float[] x = TestWeights.gaussian(rows * dim, 3.0, 32);
        float[] expected = runNorm(ref, w, x, rows, dim);
        float[] actual = runNorm(backend, w, x, rows, dim);
        double err = relError(actual, expected);
        assertTrue(err <= RMS_NORM_BUDGET, () -> backend.name() + " rmsNorm: error " + err);
    }

    private static float[] runNorm(Backend b, GgufTensorInfo w, float[] x, int rows, int dim) {
        Weight wt = b.upload(w);
        Buffer xb = upload(b, x, "x");
        Buffer out = b.allocate(x.length, "out");
        b.rmsNorm(xb, wt, rows, dim, 1e-6f, out);
        b.rmsNorm(xb, wt, rows, dim, 1e-6f, xb); // in place must give the same
        float[] a = download(b, out, x.length), c = download(b, xb, x.length);
        assertArrayEquals(a, c, b.name() + " rmsNorm in place differs");
        return a;
    }

    @Test
    void rope() {
        int n = 4, heads = 3, hd = 64;
        int[] pos = {0, 1, 517, 40000};
        float[] x = TestWeights.gaussian(n * heads * hd, 1.0, 41);
        for (float[] bs : new float[][] {{10000f, 1f}, {1e6f, 0.125f}}) {
            float[] expected = runRope(ref, x, n, heads, hd, pos, bs[0], bs[1]);
            float[] actual = runRope(backend, x, n, heads, hd, pos, bs[0], bs[1]);
            double err = maxAbs(actual, expected);
            assertTrue(err <= ROPE_BUDGET, () -> backend.name() + " rope base " + bs[0] + " scale " + bs[1] + ": max abs error " + err);
        }
    }

    private static float[] runRope(Backend b, float[] x, int n, int heads, int hd, int[] pos, float base, float scale) {
        Buffer xb = upload(b, x, "x");
        b.rope(xb, n, heads, hd, uploadInts(b, pos, "pos"), base, scale);
        return download(b, xb, x.length);
    }

    /** Sequences appended in chunks into a ring cache (slots = window + chunk) or a full cache, attention after each. */
    @ParameterizedTest(name = "attention window={0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {0, 8})
    void attention(int window) {
        int nHead = 4, nKv = 2, hd = 64, chunk = 4, total = 24;
        int slots = window > 0 ? window + chunk : total;
        float[][] refOut = runAttention(ref, window, nHead, nKv, hd, chunk, total, slots);
        float[][] out = runAttention(backend, window, nHead, nKv, hd, chunk, total, slots);
        for (int c = 0; c < refOut.length; c++) {
            double err = relError(out[c], refOut[c]);
            int cc = c;
            assertTrue(err <= ATTENTION_BUDGET, () -> backend.name() + " attention window " + window + " chunk " + cc + ": error " + err);
        }
    }

    /**
     * Non-causal chunks (a Gemma 3 image): every query of a chunk also sees the keys up to the chunk's last position,
     * the window still measured from its own position. Skipped where the backend declares Op.ATTENTION_NON_CAUSAL
     * unsupported (the model then refuses images on it).
     */
    @ParameterizedTest(name = "attentionNonCausal window={0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {0, 8})
    void attentionNonCausal(int window) {
        org.junit.jupiter.api.Assumptions.assumeTrue(backend.supportsOp(Op.ATTENTION_NON_CAUSAL, null),
                backend.name() + " declares no non-causal attention");
        int nHead = 4, nKv = 2, hd = 64, chunk = 4, total = 24;
        int slots = window > 0 ? window + chunk : total;
        float[][] refOut = runAttention(ref, window, nHead, nKv, hd, chunk, total, slots, true);
        float[][] causal = runAttention(ref, window, nHead, nKv, hd, chunk, total, slots, false);
        float[][] out = runAttention(backend, window, nHead, nKv, hd, chunk, total, slots, true);
        for (int c = 0; c < refOut.length; c++) {
            double err = relError(out[c], refOut[c]);
            int cc = c;
            assertTrue(err <= ATTENTION_BUDGET, () -> backend.name() + " non-causal attention window " + window + " chunk " + cc + ": error " + err);
            assertTrue(relError(causal[c], refOut[c]) > 0.01, "the non-causal chunk differs from the causal one");
        }
    }

    private static float[][] runAttention(Backend b, int window, int nHead, int nKv, int hd, int chunk, int total, int slots) {
        return runAttention(b, window, nHead, nKv, hd, chunk, total, slots, false);
    }

    private static float[][] runAttention(Backend b, int window, int nHead, int nKv, int hd, int chunk, int total, int slots,
                                          boolean nonCausal) {
        KvBuffer cache = b.allocateKv(slots, nKv * hd, "kv");
        float[][] outs = new float[total / chunk][];
        Buffer q = b.allocate((long) chunk * nHead * hd, "q");
        Buffer k = b.allocate((long) chunk * nKv * hd, "k");
        Buffer v = b.allocate((long) chunk * nKv * hd, "v");
        Buffer out = b.allocate((long) chunk * nHead * hd, "out");
        IntBuffer pos = b.allocateInts(chunk, "pos");
        for (int c = 0; c < total / chunk; c++) {
            int[] p = new int[chunk];
            for (int t = 0; t < chunk; t++) p[t] = c * chunk + t;
            b.writeInts(pos, p, chunk);
            float[] qs = TestWeights.gaussian(chunk * nHead * hd, 1.0, 100 + c);
            b.write(q, 0, qs, 0, qs.length);
            float[] ks = TestWeights.gaussian(chunk * nKv * hd, 1.0, 200 + c);
            b.write(k, 0, ks, 0, ks.length);
            float[] vs = TestWeights.gaussian(chunk * nKv * hd, 1.0, 300 + c);
            b.write(v, 0, vs, 0, vs.length);
            b.kvAppend(k, v, chunk, pos, cache);
            if (nonCausal) b.attentionNonCausal(q, cache, chunk, pos, nHead, nKv, hd, window, 0.125f, c * chunk + chunk - 1, out);
            else b.attention(q, cache, chunk, pos, nHead, nKv, hd, window, 0.125f, out);
            outs[c] = download(b, out, chunk * nHead * hd);
        }
        return outs;
    }

    // ---- fused ops (Backend default methods) against the reference's composed ops ------------------------------

    /** rmsNormAddNorm = rmsNorm in place, add, rmsNorm into out (and without the next norm: no out). */
    @ParameterizedTest(name = "rmsNormAddNorm rows={0} dim={1}")
    @org.junit.jupiter.params.provider.CsvSource({"1,256", "5,320", "3,1152"})
    void fusedRmsNormAddNorm(int rows, int dim) {
        GgufTensorInfo post = TestWeights.random("post", GgmlType.F32, 1, dim, 81), next = TestWeights.random("next", GgmlType.F32, 1, dim, 82);
        float[] a = TestWeights.gaussian(rows * dim, 3.0, 83), x = TestWeights.gaussian(rows * dim, 10.0, 84);
        for (boolean withNext : new boolean[] {true, false}) {
            float[][] expected = runNormAddNorm(ref, post, next, a, x, rows, dim, withNext, false);
            float[][] actual = runNormAddNorm(backend, post, next, a, x, rows, dim, withNext, true);
            String[] names = {"a (post-normed)", "x (residual)", "out (next norm)"};
            for (int i = 0; i < (withNext ? 3 : 2); i++) {
                double err = relError(actual[i], expected[i]);
                String what = names[i];
                assertTrue(err <= RMS_NORM_BUDGET, () -> backend.name() + " rmsNormAddNorm " + what + " rows " + rows + " dim " + dim + ": error " + err);
            }
        }
    }

    protected static float[][] runNormAddNorm(Backend b, GgufTensorInfo post, GgufTensorInfo next, float[] a, float[] x, int rows,
                                            int dim, boolean withNext, boolean fused) {
        Weight pw = b.upload(post), nw = b.upload(next);
        Buffer ab = upload(b, a, "a"), xb = upload(b, x, "x"), out = b.allocate(a.length, "out");
        if (fused) {
            b.rmsNormAddNorm(ab, pw, xb, withNext ? nw : null, rows, dim, 1e-6f, out);
        } else {
            b.rmsNorm(ab, pw, rows, dim, 1e-6f, ab);
            b.add(xb, ab, a.length);
            if (withNext) b.rmsNorm(xb, nw, rows, dim, 1e-6f, out);
        }
        return new float[][] {download(b, ab, a.length), download(b, xb, a.length), download(b, out, a.length)};
    }

    static Stream<Arguments> gegluTypes() {
        return Stream.of(Arguments.of(GgmlType.Q4_K, GgmlType.Q4_K, 1), Arguments.of(GgmlType.Q4_K, GgmlType.Q4_K, 3),
                Arguments.of(GgmlType.Q8_0, GgmlType.Q6_K, 1), Arguments.of(GgmlType.Q4_0, GgmlType.Q5_0, 8),
                Arguments.of(GgmlType.F16, GgmlType.F16, 2), Arguments.of(GgmlType.Q5_K, GgmlType.Q4_K, 13),
                Arguments.of(GgmlType.Q4_K, GgmlType.Q6_K, 24));
    }

    /**
     * matmulGeglu = matmul2 + geglu on the reference, within the error the two matmuls' budgets allow once carried
     * through the product: an error of at most bg·rms(G) in a gate value and bu·rms(U) in an up value (G, U: the
     * reference's matmul outputs) moves gelu(G)·U by at most 1.13·bg·rms(G)·|U| + |gelu(G)|·bu·rms(U) (1.13 bounds
     * gelu's slope), plus geglu's own budget. A single max-over-rms budget does not carry through a product: int8
     * activations (llama.cpp's, and ours for prompts) stay within the matmul budget yet exceed twice it here.
     */
    @ParameterizedTest(name = "matmulGeglu {0},{1} n={2}")
    @MethodSource("gegluTypes")
    void fusedMatmulGeglu(GgmlType tg, GgmlType tu, int n) {
        assumeSupported(Op.MATMUL, tg);
        assumeSupported(Op.MATMUL, tu);
        int cols = 512, rows = 96;
        GgufTensorInfo g = TestWeights.random("gate", tg, rows, cols, 91 + tg.id), u = TestWeights.random("up", tu, rows, cols, 92 + tu.id);
        float[] x = TestWeights.gaussian(n * cols, 1.0, 93 + n);
        float[] expected = runMatmulGeglu(ref, g, u, x, n, rows, false), actual = runMatmulGeglu(backend, g, u, x, n, rows, true);
        float[] G = runMatmul(ref, g, x, n, rows), U = runMatmul(ref, u, x, n, rows);
        double bg = MATMUL_BUDGET.get(tg) * rms(G), bu = MATMUL_BUDGET.get(tu) * rms(U), geglu = GEGLU_BUDGET * rms(expected);
        for (int i = 0; i < expected.length; i++) {
            double gl = Math.abs(0.5 * G[i] * (1 + Math.tanh(0.7978845608 * G[i] * (1 + 0.044715 * G[i] * G[i]))));
            double allowed = 1.13 * bg * (Math.abs(U[i]) + bu) + gl * bu + geglu;
            double err = Math.abs(actual[i] - expected[i]);
            int at = i;
            assertTrue(Float.isFinite(actual[i]) && err <= allowed, () -> backend.name() + " matmulGeglu " + tg + "," + tu + " n=" + n
                    + " element " + at + ": error " + err + " > " + allowed + " (gate " + G[at] + ", up " + U[at] + ")");
        }
    }

    static double rms(float[] a) {
        double ss = 0;
        for (float v : a) ss += (double) v * v;
        return Math.sqrt(ss / Math.max(1, a.length));
    }

    protected static float[] runMatmulGeglu(Backend b, GgufTensorInfo g, GgufTensorInfo u, float[] x, int n, int rows, boolean fused) {
        Weight gw = b.upload(g), uw = b.upload(u);
        Buffer xb = upload(b, x, "x"), out = b.allocate((long) n * rows, "out"), up = b.allocate((long) n * rows, "up");
        if (fused) {
            b.matmulGeglu(gw, uw, xb, n, out, up);
        } else {
            b.matmul2(gw, uw, xb, n, out, up);
            b.geglu(out, up, (long) n * rows, out);
        }
        return download(b, out, n * rows);
    }

    /**
     * qkNormRopeAppend = Q/K norms, two ropes and the KV append on the reference: q and k compared directly, the cache
     * through an attention that reads it; without a cache nothing is appended (the attention still sees the old keys).
     */
    @ParameterizedTest(name = "qkNormRopeAppend n={0} head_dim={1} append={2}")
    @org.junit.jupiter.params.provider.CsvSource({"1,64,true", "4,64,true", "3,128,false", "1,256,true"})
    void fusedQkNormRopeAppend(int n, int hd, boolean append) {
        int nHead = 4, nKv = 2, slots = 16;
        int[] pos = new int[n];
        for (int t = 0; t < n; t++) pos[t] = 9 + t;
        float[][] expected = runQkNormRope(ref, n, hd, nHead, nKv, slots, pos, append, false);
        float[][] actual = runQkNormRope(backend, n, hd, nHead, nKv, slots, pos, append, true);
        double eq = maxAbs(actual[0], expected[0]), ek = maxAbs(actual[1], expected[1]), ea = relError(actual[2], expected[2]);
        assertTrue(eq <= ROPE_BUDGET && ek <= ROPE_BUDGET, () -> backend.name() + " qkNormRopeAppend q/k: max abs error " + eq + ", " + ek);
        assertTrue(ea <= ATTENTION_BUDGET, () -> backend.name() + " qkNormRopeAppend then attention: error " + ea);
    }

    protected static float[][] runQkNormRope(Backend b, int n, int hd, int nHead, int nKv, int slots, int[] pos, boolean append,
                                           boolean fused) {
        GgufTensorInfo qn = TestWeights.random("q_norm", GgmlType.F32, 1, hd, 101), kn = TestWeights.random("k_norm", GgmlType.F32, 1, hd, 102);
        Weight qw = b.upload(qn), kw = b.upload(kn);
        KvBuffer cache = b.allocateKv(slots, nKv * hd, "kv");
        // keys 0 .. pos[0]-1 appended plainly first, so the attention has history whether or not the fused op appends
        int hist = pos[0];
        int[] hp = new int[hist];
        for (int t = 0; t < hist; t++) hp[t] = t;
        Buffer hk = upload(b, TestWeights.gaussian(hist * nKv * hd, 1.0, 103), "hk"), hv = upload(b, TestWeights.gaussian(hist * nKv * hd, 1.0, 104), "hv");
        b.kvAppend(hk, hv, hist, uploadInts(b, hp, "hpos"), cache);
        Buffer q = upload(b, TestWeights.gaussian(n * nHead * hd, 2.0, 105), "q"), k = upload(b, TestWeights.gaussian(n * nKv * hd, 2.0, 106), "k");
        Buffer v = upload(b, TestWeights.gaussian(n * nKv * hd, 1.0, 107), "v");
        IntBuffer p = uploadInts(b, pos, "pos");
        float base = 10000f, scale = 1f, eps = 1e-6f;
        if (fused) {
            b.qkNormRopeAppend(q, k, v, qw, kw, n, nHead, nKv, hd, eps, p, base, scale, append ? cache : null);
        } else {
            b.rmsNorm(q, qw, n * nHead, hd, eps, q);
            b.rmsNorm(k, kw, n * nKv, hd, eps, k);
            b.rope(q, n, nHead, hd, p, base, scale);
            b.rope(k, n, nKv, hd, p, base, scale);
            if (append) b.kvAppend(k, v, n, p, cache);
        }
        float[] qo = download(b, q, n * nHead * hd), ko = download(b, k, n * nKv * hd);
        Buffer out = b.allocate((long) n * nHead * hd, "out");
        if (append) {
            b.attention(q, cache, n, p, nHead, nKv, hd, 0, 0.125f, out);
        } else { // the last history position: keys 0 .. pos[0]-1 only
            int[] last = new int[n];
            Arrays.fill(last, hist - 1);
            b.attention(q, cache, n, uploadInts(b, last, "last"), nHead, nKv, hd, 0, 0.125f, out);
        }
        return new float[][] {qo, ko, download(b, out, n * nHead * hd)};
    }

    /**
     * Full self-attention without a KV cache (the SigLIP encoder), against the plain-Java twin: n = 37 is not a multiple of
     * the CPU kernel's query tile or vector width, head_dim 72 (SigLIP so400m) not a multiple of 16; large scores check
     * the max subtraction.
     */
    @ParameterizedTest(name = "selfAttention headDim={0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {72, 32, 5})
    void selfAttention(int hd) {
        int n = 37, nHead = 3, len = n * nHead * hd;
        float[] q = TestWeights.gaussian(len, 2.0, 401), k = TestWeights.gaussian(len, 2.0, 402), v = TestWeights.gaussian(len, 1.0, 403);
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] expected = new float[len];
        SelfAttentionReference.run(q, k, v, n, nHead, hd, scale, expected);
        Buffer qb = upload(backend, q, "q"), kb = upload(backend, k, "k"), vb = upload(backend, v, "v");
        Buffer out = backend.allocate(len, "out");
        backend.selfAttention(qb, kb, vb, n, nHead, hd, scale, out);
        float[] actual = download(backend, out, len);
        double err = relError(actual, expected);
        assertTrue(err <= ATTENTION_BUDGET, () -> backend.name() + " selfAttention headDim " + hd + ": error " + err);
        assertThrows(IllegalArgumentException.class, () -> backend.selfAttention(qb, kb, vb, n + 1, nHead, hd, scale, out));
    }

    @Test
    void geglu() {
        int n = 4096;
        float[] gate = TestWeights.gaussian(n, 3.0, 51), up = TestWeights.gaussian(n, 1.0, 52);
        gate[0] = -12f; gate[1] = 11f; gate[2] = 0f;
        float[] expected = runGeglu(ref, gate, up), actual = runGeglu(backend, gate, up);
        double err = relError(actual, expected);
        assertTrue(err <= GEGLU_BUDGET, () -> backend.name() + " geglu: error " + err);
    }

    private static float[] runGeglu(Backend b, float[] gate, float[] up) {
        Buffer g = upload(b, gate, "gate"), u = upload(b, up, "up");
        b.geglu(g, u, gate.length, g);
        return download(b, g, gate.length);
    }

    @Test
    void addSoftcapCopy() {
        int n = 1000;
        float[] a = TestWeights.gaussian(n, 20.0, 61), x = TestWeights.gaussian(n, 20.0, 62);
        float[] expected = runElementwise(ref, a, x), actual = runElementwise(backend, a, x);
        double err = relError(actual, expected);
        assertTrue(err <= ELEMENTWISE_BUDGET, () -> backend.name() + " add/softcap/copy: error " + err);
    }

    private static float[] runElementwise(Backend b, float[] a, float[] x) {
        Buffer ab = upload(b, a, "a"), xb = upload(b, x, "x");
        b.add(ab, xb, a.length);
        b.softcap(ab, a.length, 30f);
        Buffer out = b.allocate(2L * a.length, "out");
        b.copy(ab, 0, out, a.length, a.length);
        return Arrays.copyOfRange(download(b, out, 2 * a.length), a.length, 2 * a.length);
    }

    @Test
    void argmax() {
        int rows = 3, dim = 5000;
        float[] x = TestWeights.gaussian(rows * dim, 1.0, 71);
        x[4321] = 9f;
        x[dim + 17] = 9f;
        x[dim + 18] = 9f;              // tie: the lower index wins
        x[2 * dim + dim - 1] = 9f;
        int[] expected = runArgmax(ref, x, rows, dim), actual = runArgmax(backend, x, rows, dim);
        assertArrayEquals(new int[] {4321, 17, dim - 1}, expected, "reference argmax");
        assertArrayEquals(expected, actual, backend.name() + " argmax");
    }

    private static int[] runArgmax(Backend b, float[] x, int rows, int dim) {
        Buffer xb = upload(b, x, "x");
        IntBuffer out = b.allocateInts(rows, "out");
        b.argmax(xb, rows, dim, out);
        int[] r = new int[rows];
        b.readInts(out, r, rows);
        return r;
    }
}
