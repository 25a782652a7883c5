package org.jgemma.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendConformanceTest;
import org.jgemma.backend.Buffer;
import org.jgemma.backend.IntBuffer;
import org.jgemma.backend.KvBuffer;
import org.jgemma.backend.TestWeights;
import org.jgemma.backend.Weight;
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
 * The prompt-chunk kernels (PrefillOps) at odd sizes: the tiled mat-mat of every weight type against the mat-vec of
 * the same backend (the batch fed 8 columns at a time: the same q8_1 activations, so only the order of the float sums
 * differs) and against the reference backend; the query-tile attention against the flash-decoding kernel (8 queries
 * at a time over the same cache) and the reference; the launch arithmetic and the dispatch without a GPU. Token
 * counts 9, 33, 100 and 129 (a column tile and one more), rows not a multiple of the 64-row tile, K not a multiple
 * of the 128-element K step; sliding windows whose edge falls inside a query tile, a ring cache that wraps, split keys.
 */
class CudaPrefillTest {
    /** Tiled vs mat-vec of the same backend: the same integer dot products, float sums in another order. */
    static final double SAME_INPUT_BUDGET = 2e-5;

    Backend backend;
    ReferenceBackend ref;

    @BeforeEach
    void open() {
        try {
            backend = CudaTestSupport.create();
        } catch (org.jgemma.backend.BackendUnavailableException e) {
            org.junit.jupiter.api.Assumptions.assumeTrue(false, "cuda backend unavailable: " + e.getMessage());
        }
        ref = new ReferenceBackend();
    }

    @AfterEach
    void close() {
        if (backend != null) backend.close();
        if (ref != null) ref.close();
    }

    static Stream<Arguments> matmuls() {
        List<Arguments> a = new ArrayList<>();
        for (GgmlType t : Kernels.WEIGHT_TYPES) {
            // K: 11 sub-blocks of 32 (a partial K step) for the 32-blocks, 3 super-blocks for the K-quants, 25 pairs for floats
            int k = t.blockSize == 256 ? 768 : t.blockSize == 32 ? 352 : 50;
            for (int n : new int[] {9, 33, 100, 129}) a.add(Arguments.of(t, k, n));
        }

        return a.stream();
    }

    @ParameterizedTest(name = "tiled matmul {0} K={1} n={2}")
    @MethodSource("matmuls")
    void tiledMatmulMatchesTheMatVecAndTheReference(GgmlType type, int k, int n) {
        int rows = 100;  // a full 64-row tile and a partial one
        GgufTensorInfo w = TestWeights.random("w", type, rows, k, 7000 + type.id + n);
        float[] x = TestWeights.gaussian(n * k, 1.0, 31 + n);
        float[] tiled = matmul(backend, w, x, n, rows, n);
        float[] matVec = matmul(backend, w, x, n, rows, PrefillOps.MAX_MATVEC_COLUMNS);
        float[] expected = matmul(ref, w, x, n, rows, n);
        double same = BackendConformanceTest.relError(tiled, matVec);
        assertTrue(same <= SAME_INPUT_BUDGET, () -> "tiled vs mat-vec " + type + " n=" + n + ": error " + same);
        double err = BackendConformanceTest.relError(tiled, expected), budget = BackendConformanceTest.MATMUL_BUDGET.get(type);
        assertTrue(err <= budget, () -> "tiled vs reference " + type + " n=" + n + ": error " + err + " > " + budget);
    }

    /** out [n][rows] = W x, computed by matmul calls of at most {@code step} columns each. */
    private static float[] matmul(Backend b, GgufTensorInfo w, float[] x, int n, int rows, int step) {
        Weight wt = b.upload(w);
        int k = (int) w.rowLength();
        float[] result = new float[n * rows];
        Buffer xb = b.allocate((long) step * k, "x"), out = b.allocate((long) step * rows, "out");
        for (int c0 = 0; c0 < n; c0 += step) {
            int m = Math.min(step, n - c0);
            b.write(xb, 0, x, c0 * k, m * k);
            b.matmul(wt, xb, m, out);
            b.read(out, 0, result, c0 * rows, m * rows);
        }
        return result;
    }

    /**
     * (head_dim, n_head, n_kv_head, n, window, slots, start): n queries at positions start .. start+n-1 after the
     * positions before start were appended; a window with slots = window + n is gemma3's ring of a local layer.
     */
    static Stream<Arguments> attentions() {
        return Stream.of(
                Arguments.of(64, 4, 1, 9, 8, 17, 0),        // the tiny fixtures' shape: the window edge inside the tile
                Arguments.of(128, 4, 2, 33, 16, 49, 20),    // GQA 2, the ring wraps inside the chunk
                Arguments.of(256, 8, 2, 100, 0, 300, 150),  // GQA 4, a global layer behind 150 earlier keys
                Arguments.of(128, 2, 2, 129, 64, 193, 0),   // GQA 1, 64-key window, one query past the 8th tile
                Arguments.of(256, 8, 1, 16, 0, 1100, 1084)  // GQA 8, one tile over 1100 keys: split keys + combine
        );
    }

    @ParameterizedTest(name = "tiled attention hd={0} heads={1}/{2} n={3} window={4} slots={5} start={6}")
    @MethodSource("attentions")
    void tiledAttentionMatchesTheDecodeKernelAndTheReference(int hd, int nHead, int nKv, int n, int window, int slots, int start) {
        float[] tiled = attention(backend, hd, nHead, nKv, n, window, slots, start, n);
        float[] perQuery = attention(backend, hd, nHead, nKv, n, window, slots, start, PrefillOps.MAX_MATVEC_COLUMNS);
        float[] expected = attention(ref, hd, nHead, nKv, n, window, slots, start, n);
        double same = BackendConformanceTest.relError(tiled, perQuery);
        assertTrue(same <= SAME_INPUT_BUDGET, () -> "tiled vs flash-decoding attention: error " + same);
        double err = BackendConformanceTest.relError(tiled, expected);
        assertTrue(err <= BackendConformanceTest.ATTENTION_BUDGET, () -> "tiled attention vs reference: error " + err);
    }

    /** Appends positions 0 .. start+n-1 (64 at a time), then attention of the last n in calls of at most {@code step} queries. */
    private static float[] attention(Backend b, int hd, int nHead, int nKv, int n, int window, int slots, int start, int step) {
        int kvDim = nKv * hd, qDim = nHead * hd;
        KvBuffer cache = b.allocateKv(slots, kvDim, "kv");
        int chunk = Math.max(64, n);
        Buffer k = b.allocate((long) chunk * kvDim, "k"), v = b.allocate((long) chunk * kvDim, "v");
        IntBuffer pos = b.allocateInts(chunk, "pos");
        for (int p0 = 0; p0 < start + n; ) {
            int m = p0 < start ? Math.min(64, start - p0) : n;  // the earlier keys, then the chunk in one append
            int[] p = new int[m];
            for (int t = 0; t < m; t++) p[t] = p0 + t;
            b.writeInts(pos, p, m);
            float[] ks = TestWeights.gaussian(m * kvDim, 1.0, 500 + p0), vs = TestWeights.gaussian(m * kvDim, 1.0, 900 + p0);
            b.write(k, 0, ks, 0, ks.length);
            b.write(v, 0, vs, 0, vs.length);
            b.kvAppend(k, v, m, pos, cache);
            p0 += m;
        }
        float[] qs = TestWeights.gaussian(n * qDim, 1.0, 77);
        float[] result = new float[n * qDim];
        Buffer q = b.allocate((long) step * qDim, "q"), out = b.allocate((long) step * qDim, "out");
        for (int t0 = 0; t0 < n; t0 += step) {
            int m = Math.min(step, n - t0);
            int[] p = new int[m];
            for (int t = 0; t < m; t++) p[t] = start + t0 + t;
            b.writeInts(pos, p, m);
            b.write(q, 0, qs, t0 * qDim, m * qDim);
            b.attention(q, cache, m, pos, nHead, nKv, hd, window, 1f / (float) Math.sqrt(hd), out);
            b.read(out, 0, result, t0 * qDim, m * qDim);
        }
        return result;
    }

    // ---- launch arithmetic and dispatch, no kernels run ------------------------------------------------------

    @Test
    void tilesCoverRowsAndTokens() {
        assertEquals(1, PrefillOps.rowTiles(1));
        assertEquals(1, PrefillOps.rowTiles(64));
        assertEquals(2, PrefillOps.rowTiles(100));
        assertEquals(4096, PrefillOps.rowTiles(262144));  // gemma3's vocabulary
        assertEquals(1, PrefillOps.columnTiles(9));
        assertEquals(2, PrefillOps.columnTiles(100));
        assertEquals(3, PrefillOps.columnTiles(129));
        assertEquals(8, PrefillOps.columnTiles(512));
        assertEquals(32, PrefillOps.queryTiles(512));
        assertEquals(9, PrefillOps.queryTiles(129));
        assertTrue(!PrefillOps.tiled(8) && PrefillOps.tiled(9));
    }

    @Test
    void attentionSplitsFillTheDeviceAndBoundThePartials() {
        for (int sms : new int[] {1, 16, 132}) {
            for (int n : new int[] {9, 33, 100, 512}) {
                for (int heads : new int[] {1, 4, 8, 32}) {
                    for (int span : new int[] {1, 64, 1024, 131072}) {
                        int s = PrefillOps.attentionSplits(n, heads, span, sms);
                        assertTrue(s >= 1 && s <= Launch.FA_MAX_SPLITS, "splits " + s);
                        assertTrue(s == 1 || (long) n * heads * s <= Launch.FA_MAX_PARTS, "partials bounded");
                        assertTrue(s == 1 || (long) (s - 1) * Launch.FA_MIN_CHUNK < span + PrefillOps.FT_Q - 1, "no empty split by design");
                    }
                }
            }
        }
        assertEquals(3, PrefillOps.attentionSplits(512, 4, 32768, 132));  // 32 tiles x 4 heads: two waves need 3 splits
        assertEquals(33, PrefillOps.attentionSplits(16, 8, 32768, 132));  // one tile of a late chunk: split its keys
    }

    @Test
    void aPromptOf512ReadsEachWeightEightTimesInsteadOf64() {
        long w = 1000;
        long before = PrefillOps.weightBytesRead(), beforeMv = PrefillOps.weightBytesReadByMatVec();
        PrefillOps.countWeightReads(w, 512);
        assertEquals(8 * w, PrefillOps.weightBytesRead() - before);
        assertEquals(64 * w, PrefillOps.weightBytesReadByMatVec() - beforeMv);
        before = PrefillOps.weightBytesRead();
        PrefillOps.countWeightReads(w, 7);  // mat-vec: 4 + 2 + 1 columns, three passes
        assertEquals(3 * w, PrefillOps.weightBytesRead() - before);
    }

    @Test
    void batchesOfMoreThanEightTokensLaunchTheTiledKernels() {
        RecordingDriver d = new RecordingDriver();
        try (CudaBackend b = new CudaBackend(d)) {
            Weight q4 = b.upload(TestWeights.random("w", GgmlType.Q4_K, 100, 256, 1));
            Weight f16 = b.upload(TestWeights.random("f", GgmlType.F16, 100, 256, 2));
            Buffer x = b.allocate(129 * 256, "x"), out = b.allocate(129 * 100, "out");
            b.matmul(q4, x, 8, out);
            b.matmul(q4, x, 129, out);
            b.matmul(f16, x, 129, out);
            KvBuffer kv = b.allocateKv(600, 256, "kv");
            IntBuffer pos = b.allocateInts(129, "pos");
            Buffer q = b.allocate(129 * 4 * 128, "q"), o = b.allocate(129 * 4 * 128, "o");
            b.attention(q, kv, 1, pos, 4, 2, 128, 0, 0.1f, o);
            b.attention(q, kv, 129, pos, 4, 2, 128, 0, 0.1f, o);
        }
        List<String> names = d.launches.stream().map(RecordingDriver.Launched::kernel).toList();
        assertEquals(List.of("quantize_q8_1", "mul_mv_q4_k_f32_nc8", "quantize_q8_1", "mul_mm_q_f32", "mul_mm_f_f32",
                "flash_attn_split_f16", "flash_attn_combine_q8_f32", "flash_attn_tile_f16"), names);  // 36 blocks ≥ 2 x 16 SMs: no split
        int[] mm = d.launches.get(3).dims();
        assertEquals("[2, 3, 1, 32, 4, 1]", Arrays.toString(mm), "100 rows / 64, 129 tokens / 64 (grid), 32 x 4 threads");
        int[] fa = d.launches.get(7).dims();
        assertEquals(9, fa[0], "129 queries / 16 per block");
        assertEquals(4, fa[1], "heads");
    }
}
