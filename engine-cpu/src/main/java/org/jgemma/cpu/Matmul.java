package org.jgemma.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jgemma.cpu.CpuMemory.CpuWeight;
import org.jgemma.ggml.GgmlType;

/**
 * {@code out[t][r] = Σ_k W[r][k] x[t][k]} on all workers, rows split across them. Two paths:
 * <ul>
 *   <li>the int8 path: the activation rows are quantized once to the weight's vec_dot_type and each weight row is
 *       dotted with them in int8, as llama.cpp does. Few tokens (a decode step) on any quantized weight; a prompt
 *       too where the native kernels cover the type ({@link NativeKernels}: each weight block decoded once for up to
 *       8 token rows, every token by the same instructions as alone). Without them: {@link QuantDot}, and in a step of
 *       several sequences {@link QuantDotPair} (each weight block loaded once for two, the same floats as one);</li>
 *   <li>otherwise (a prompt on a type without a native kernel, or float weights): float tiles over dequantized weight
 *       panels ({@link MatmulBatched}; a 2-row × 4-token tile on machines narrower than 256 bits), so every weight
 *       byte read serves many tokens.</li>
 * </ul>
 * One instance per backend; {@link #run} is allocation-free.
 */
final class Matmul implements WorkerPool.Task {
    /**
     * Token count from which the tiled float path is used. Below it every token row is computed exactly as a single
     * token would be (the int8 dot, or one float dot per row): a step that decodes up to 8 sequences at once
     * (Gemma3Model.decodeBatch) then gives each the logits it would get alone, while the weight rows, read once from
     * memory, serve all of them from the cache.
     */
    static final int TILE_MIN_TOKENS = 9;
    /** Whether the native int8 kernels loaded ({@link NativeKernels}); per type, {@link NativeKernels#supports}. */
    static final boolean NATIVE = NativeKernels.supports(GgmlType.Q8_0);
    private static final VectorSpecies<Float> F = VectorShapes.F;
    private static final int FL = F.length();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(QuantDot.LE);

    private final WorkerPool pool;
    /** Quantized activations per vec_dot_type (Q8_0, Q8_1, Q8_K): a fused call may mix weight types. */
    private final Q8Activations[] actsByKind = new Q8Activations[3];
    private float[][] scratch; // per worker [2][maxCols]
    private final QuantizeTask quantizeTask = new QuantizeTask();
    private final MatmulBatched batched;

    // the current call
    private CpuWeight w;
    private float[] x, out;
    private int n, k, rows;
    private boolean intPath;
    /**
     * The decode path's segments: up to 3 weights on the same input (a fused Q/K/V or gate/up call), their rows
     * concatenated: segment s holds global rows [segEnd[s-1], segEnd[s]).
     */
    private final CpuWeight[] segW = new CpuWeight[3];
    private final float[][] segOut = new float[3][];
    private final Q8Activations[] segActs = new Q8Activations[3];
    private final int[] segEnd = new int[3];
    private int segs;
    /** Dynamic row chunks of the decode path: the next unclaimed global row and the chunk size. */
    private final java.util.concurrent.atomic.AtomicInteger nextRow = new java.util.concurrent.atomic.AtomicInteger();
    private int chunkRows;

    // activation cache per kind: the last quantized input
    private final float[][] cachedX = new float[3][];
    private final int[] cachedVersion = {-1, -1, -1}, cachedN = new int[3], cachedK = new int[3];

    Matmul(WorkerPool pool, int maxCols) {
        this.pool = pool;
        for (int i = 0; i < 3; i++) actsByKind[i] = new Q8Activations(TILE_MIN_TOKENS - 1, maxCols);
        this.scratch = new float[pool.size()][2 * Math.max(maxCols, 1) + 64];
        this.batched = new MatmulBatched(pool);
    }

    /** Grows the per-worker scratch for rows of {@code cols} (called when weights are uploaded, never per token). */
    void ensureCols(int cols) {
        if (scratch[0].length < 2 * cols + 64) scratch = new float[pool.size()][2 * cols + 64];
    }

    /** Whether {@code run} on this weight with n tokens takes the int8 decode path (the one {@link #runFused} needs). */
    static boolean decodePath(CpuWeight w, int n) {
        return Q8Activations.kindFor(w.type()) != null && (n < TILE_MIN_TOKENS || (INT8_PROMPT && NativeKernels.supports(w.type(), w.cols())));
    }

    /**
     * Prompts on the native int8 kernels too (default): llama.cpp quantizes a prompt's activations as it does a
     * token's, and the several-column kernels beat the float tile (MatmulBatched) for those types.
     * {@code -Djgemma.cpu.int8prompt=false} sends prompts to the float tile (for comparisons).
     */
    static final boolean INT8_PROMPT = !"false".equals(System.getProperty("jgemma.cpu.int8prompt"));

    void run(CpuWeight w, float[] x, int xVersion, int n, float[] out) {
        if (n >= TILE_MIN_TOKENS && VectorShapes.TILES_256 && !decodePath(w, n)) { // narrower machines: the generic 2x4 float tile below
            batched.run(w, x, xVersion, n, out);
            return;
        }
        if (decodePath(w, n)) {
            segW[0] = w;
            segOut[0] = out;
            decode(1, x, xVersion, n);
            return;
        }
        this.w = w;
        this.x = x;
        this.out = out;
        this.n = n;
        this.k = (int) w.cols();
        this.rows = (int) w.rows();
        intPath = false;
        pool.run(this);
        this.x = null;
        this.out = null;
        this.w = null;
    }

    /**
     * Two or three weights with the same column count on the same input, all on the decode path
     * ({@link #decodePath}): one activation quantization per kind and ONE parallel region over their concatenated rows.
     */
    void runFused(CpuWeight w1, CpuWeight w2, CpuWeight w3, float[] x, int xVersion, int n, float[] out1, float[] out2, float[] out3) {
        segW[0] = w1;
        segW[1] = w2;
        segOut[0] = out1;
        segOut[1] = out2;
        if (w3 != null) {
            segW[2] = w3;
            segOut[2] = out3;
        }
        decode(w3 != null ? 3 : 2, x, xVersion, n);
    }

    /** The decode path on segW/segOut[0..count). */
    private void decode(int count, float[] x, int xVersion, int n) {
        int k = (int) segW[0].cols();
        int total = 0;
        long maxRowBytes = 0;
        boolean packed = false;
        for (int s = 0; s < count; s++) {
            CpuWeight sw = segW[s];
            if (sw.cols() != k) throw new IllegalArgumentException(sw.name() + ": " + sw.cols() + " columns, expected " + k + " as " + segW[0].name());
            segActs[s] = quantized(sw, x, xVersion, n, k);
            total += (int) sw.rows();
            segEnd[s] = total;
            maxRowBytes = Math.max(maxRowBytes, sw.rowBytes());
            packed |= sw.packed() != null;
        }
        this.segs = count;
        this.n = n;
        this.k = k;
        this.rows = total;
        intPath = true;
        nextRow.set(0);
        // ~64 KiB of weights per claim: fine enough to balance, coarse enough that the shared counter stays cold; 256 KiB
        // on the native kernels, where each claim is also a downcall (4B Q4_K_M tg16, 3 alternating rounds: 5.52 / 4.81 /
        // 6.09 t/s with 64 KiB, 5.86 / 5.92 / 6.78 with 256)
        long claim = NativeKernels.supports(segW[0].type(), k) ? 256 << 10 : 64 << 10;
        if (n > 8) claim = Math.max(8 << 10, claim * 8 / n); // a prompt: each row costs n columns of work
        chunkRows = (int) Math.max(4, Math.min((total + 1) / 2, claim / maxRowBytes));
        if (packed) chunkRows = (chunkRows + 7) & ~7; // whole groups of 8 rows
        pool.run(this);
        for (int s = 0; s < count; s++) {
            segW[s] = null;
            segOut[s] = null;
        }
    }

    /** The activations x = [n][k] quantized to w's vec_dot_type, reusing the last quantization of the same input. */
    private Q8Activations quantized(CpuWeight w, float[] x, int xVersion, int n, int k) {
        GgmlType kind = Q8Activations.kindFor(w.type());
        int ki = kind == GgmlType.Q8_0 ? 0 : kind == GgmlType.Q8_1 ? 1 : 2;
        Q8Activations acts = actsByKind[ki];
        if (k % 256 != 0 && kind == GgmlType.Q8_K) throw new IllegalArgumentException(w.name() + ": " + k + " columns is not a multiple of 256");
        if (acts.capacityRows(k) < n) {
            if (n < TILE_MIN_TOKENS) throw new IllegalStateException("activation scratch too small for " + w.name());
            acts = actsByKind[ki] = new Q8Activations(n, Math.max(k, acts.q.length / (TILE_MIN_TOKENS - 1)));
            cachedX[ki] = null;
        }
        if (cachedX[ki] != x || cachedVersion[ki] != xVersion || cachedN[ki] != n || cachedK[ki] != k) {
            acts.kind = kind;
            acts.rows = n;
            acts.cols = k;
            if (n == 1 || pool.size() == 1) {
                ActivationQuant.quantize(acts, x, 0, n, k);
                if (NATIVE) NativeKernels.toBytes(acts, 0, n, k);
            } else {
                if (NATIVE) { // allocated here, not by two workers at once
                    acts.bytes();
                    acts.bsums16();
                }
                quantizeTask.set(acts, x, n, k);
                pool.run(quantizeTask); // with the int8 copies the native kernels read
            }
            cachedX[ki] = x;
            cachedVersion[ki] = xVersion;
            cachedN[ki] = n;
            cachedK[ki] = k;
        }
        return acts;
    }

    /** Forgets the cached activation quantization (an op may have written the input without a version bump). */
    void invalidate() {
        java.util.Arrays.fill(cachedX, null);
        batched.invalidate();
    }

    /** The decode path claims row chunks: when the caller returns, every row is done. */
    @Override
    public boolean dynamic() {
        return intPath;
    }

    @Override
    public void run(int worker, int nw) {
        if (intPath) { // decode: rows claimed in chunks, so a worker slowed by another process does not hold up the rest
            for (int g0 = nextRow.getAndAdd(chunkRows); g0 < rows; g0 = nextRow.getAndAdd(chunkRows)) {
                int g1 = Math.min(rows, g0 + chunkRows);
                for (int s = 0, start = 0; s < segs && start < g1; start = segEnd[s++]) {
                    int a = Math.max(g0, start), b = Math.min(g1, segEnd[s]);
                    if (a < b) decodeRows(segW[s], segActs[s], segOut[s], a - start, b - start);
                }
            }
            return;
        }
        // rows split in contiguous ranges, even-sized so the 2-row tile sees whole pairs
        int per = ((rows + nw - 1) / nw + 1) & ~1;
        int r0 = Math.min(rows, worker * per), r1 = Math.min(rows, r0 + per);
        if (r0 >= r1) return;
        MemorySegment seg = w.data();
        long rb = w.rowBytes();
        if (w.type() == GgmlType.F32 && n < TILE_MIN_TOKENS) {
            for (int r = r0; r < r1; r++) {
                for (int tok = 0; tok < n; tok++) out[tok * rows + r] = dotF32(seg, rb * r, x, tok * k, k);
            }
        } else {
            tiled(seg, rb, r0, r1, scratch[worker]);
        }
    }

    /** Rows [r0, r1) of one weight on the decode path: out[tok][r] for tok < n. */
    private void decodeRows(CpuWeight w, Q8Activations acts, float[] out, int r0, int r1) {
        MemorySegment seg = w.data();
        long rb = w.rowBytes();
        GgmlType t = w.type();
        int k = this.k, n = this.n;
        if (w.packed() != null) { // whole groups of 8 on the repacked copy; rows outside them (not with these claims) row by row
            int p0 = Math.min(r1, (r0 + 7) & ~7), p1 = Math.max(p0, r1 & ~7);
            if (r0 < p0) NativeKernels.rows(t, seg, rb, r0, p0, acts, k, n, out, (int) w.rows());
            if (p0 < p1) NativeKernels.rows(t, true, w.packed(), rb, p0, p1, acts, k, n, out, (int) w.rows());
            if (p1 < r1) NativeKernels.rows(t, seg, rb, p1, r1, acts, k, n, out, (int) w.rows());
        } else if (NativeKernels.supports(t, k)) { // every token row by the same native code: batch-invariant too
            NativeKernels.rows(t, seg, rb, r0, r1, acts, k, n, out, (int) w.rows());
        } else if (n == 1) {
            for (int r = r0; r < r1; r++) out[r] = QuantDot.dot(t, seg, rb * r, acts, 0, k);
        } else {
            // several tokens (a decode step of several sequences): the row is read from memory once for all of them;
            // pairs of tokens share each weight block's loading (QuantDotPair), the same floats as one token alone
            int rows = (int) w.rows();
            boolean pairs = QuantDotPair.supports(t);
            for (int r = r0; r < r1; r++) {
                int tok = 0;
                if (pairs) for (; tok + 1 < n; tok += 2) QuantDotPair.dot2(t, seg, rb * r, acts, tok, tok + 1, k, out, tok * rows + r, (tok + 1) * rows + r);
                for (; tok < n; tok++) out[tok * rows + r] = QuantDot.dot(t, seg, rb * r, acts, tok, k);
            }
        }
    }

    private void tiled(MemorySegment seg, long rb, int r0, int r1, float[] s) {
        GgmlType t = w.type();
        // tokens per chunk: keep the chunk's activations (~1 MiB) in cache while the worker sweeps its rows
        int tc = Math.max(TILE_MIN_TOKENS, Math.min(n, (1 << 20) / (4 * k)));
        for (int t0 = 0; t0 < n; t0 += tc) {
            int t1 = Math.min(n, t0 + tc);
            int r = r0;
            for (; r + 1 < r1; r += 2) {
                DequantRows.row(t, seg, rb * r, k, s, 0);
                DequantRows.row(t, seg, rb * (r + 1), k, s, k);
                int tok = t0;
                if (n >= TILE_MIN_TOKENS) for (; tok + 3 < t1; tok += 4) tile2x4(s, x, k, tok, r, rows, out);
                for (; tok < t1; tok++) {
                    out[tok * rows + r] = dot(s, 0, x, tok * k, k);
                    out[tok * rows + r + 1] = dot(s, k, x, tok * k, k);
                }
            }
            if (r < r1) {
                DequantRows.row(t, seg, rb * r, k, s, 0);
                for (int tok = t0; tok < t1; tok++) out[tok * rows + r] = dot(s, 0, x, tok * k, k);
            }
        }
    }

    /** out[tok..tok+3][r..r+1] from the two dequantized rows s[0..k), s[k..2k) and four activation rows. */
    private static void tile2x4(float[] s, float[] x, int k, int tok, int r, int rows, float[] out) {
        FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a02 = FloatVector.zero(F), a03 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F), a12 = FloatVector.zero(F), a13 = FloatVector.zero(F);
        int x0 = tok * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
        int i = 0;
        for (; i + FL <= k; i += FL) {
            FloatVector w0 = FloatVector.fromArray(F, s, i), w1 = FloatVector.fromArray(F, s, k + i);
            FloatVector v0 = FloatVector.fromArray(F, x, x0 + i);
            a00 = w0.fma(v0, a00);
            a10 = w1.fma(v0, a10);
            FloatVector v1 = FloatVector.fromArray(F, x, x1 + i);
            a01 = w0.fma(v1, a01);
            a11 = w1.fma(v1, a11);
            FloatVector v2 = FloatVector.fromArray(F, x, x2 + i);
            a02 = w0.fma(v2, a02);
            a12 = w1.fma(v2, a12);
            FloatVector v3 = FloatVector.fromArray(F, x, x3 + i);
            a03 = w0.fma(v3, a03);
            a13 = w1.fma(v3, a13);
        }
        float s00 = Lanes.sumF(a00), s01 = Lanes.sumF(a01);
        float s02 = Lanes.sumF(a02), s03 = Lanes.sumF(a03);
        float s10 = Lanes.sumF(a10), s11 = Lanes.sumF(a11);
        float s12 = Lanes.sumF(a12), s13 = Lanes.sumF(a13);
        for (; i < k; i++) {
            s00 += s[i] * x[x0 + i]; s01 += s[i] * x[x1 + i]; s02 += s[i] * x[x2 + i]; s03 += s[i] * x[x3 + i];
            s10 += s[k + i] * x[x0 + i]; s11 += s[k + i] * x[x1 + i]; s12 += s[k + i] * x[x2 + i]; s13 += s[k + i] * x[x3 + i];
        }
        out[tok * rows + r] = s00; out[(tok + 1) * rows + r] = s01; out[(tok + 2) * rows + r] = s02; out[(tok + 3) * rows + r] = s03;
        out[tok * rows + r + 1] = s10; out[(tok + 1) * rows + r + 1] = s11; out[(tok + 2) * rows + r + 1] = s12; out[(tok + 3) * rows + r + 1] = s13;
    }

    /** Σ a[ao+i]·b[bo+i], i < k. */
    static float dot(float[] a, int ao, float[] b, int bo, int k) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * FL <= k; i += 2 * FL) {
            acc0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc0);
            acc1 = FloatVector.fromArray(F, a, ao + i + FL).fma(FloatVector.fromArray(F, b, bo + i + FL), acc1);
        }
        float sum = Lanes.sumF(acc0.add(acc1));
        for (; i < k; i++) sum += a[ao + i] * b[bo + i];
        return sum;
    }

    /** Σ W[i]·x[xo+i] for an F32 row at byte {@code off} of the mapping. */
    static float dotF32(MemorySegment seg, long off, float[] x, int xo, int k) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * FL <= k; i += 2 * FL) {
            acc0 = FloatVector.fromMemorySegment(F, seg, off + 4L * i, QuantDot.LE).fma(FloatVector.fromArray(F, x, xo + i), acc0);
            acc1 = FloatVector.fromMemorySegment(F, seg, off + 4L * i + 4L * FL, QuantDot.LE).fma(FloatVector.fromArray(F, x, xo + i + FL), acc1);
        }
        float sum = Lanes.sumF(acc0.add(acc1));
        for (; i < k; i++) sum += seg.get(F32, off + 4L * i) * x[xo + i];
        return sum;
    }

    /** Quantizes the activation rows, tokens split across workers. */
    private final class QuantizeTask implements WorkerPool.Task {
        private Q8Activations acts;
        private float[] qx;
        private int qn, qk;

        void set(Q8Activations a, float[] x, int n, int k) {
            acts = a;
            qx = x;
            qn = n;
            qk = k;
        }

        @Override
        public void run(int worker, int nw) {
            int per = (qn + nw - 1) / nw;
            int t0 = Math.min(qn, worker * per), t1 = Math.min(qn, t0 + per);
            if (t0 < t1) {
                ActivationQuant.quantize(acts, qx, t0, t1, qk);
                if (NATIVE) NativeKernels.toBytes(acts, t0, t1, qk);
            }
        }
    }
}
