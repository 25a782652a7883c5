package org.jgemma.cpu;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.jgemma.cpu.CpuMemory.CpuWeight;
import org.jgemma.ggml.GgmlType;

/**
 * The prompt-batch matmul {@code out[t][r] = Σ_k W[r][k] x[t][k]} for n ≥ {@link Matmul#TILE_MIN_TOKENS} tokens, in
 * float32 on dequantized weights (as transformers computes it), arranged to be bound by FMA throughput:
 * <ol>
 *   <li>x [n][K] is transposed once (per input version: q/k/v share it) into xT [nPad/NT][K][NT] (nPad = n rounded up to {@link #NT}, zero padded), all
 *       workers splitting K, so a micro-kernel call streams one contiguous block;</li>
 *   <li>the workers claim chunks of panels of {@link #MR} weight rows; for each block of {@link #KC} columns it
 *       dequantizes the panel's block once (row-major [MR][KC], the layout {@link DequantRows} writes; 4 KiB in L1)
 *       and sweeps all tokens with a register-blocked micro-kernel: {@link #MR} rows × 2 vectors of 8 tokens,
 *       8 FloatVector accumulators, per k two contiguous loads of xT and four broadcasts of weights;</li>
 *   <li>partial sums live in a per-worker [chunk·MR][nPad] accumulator across the K blocks and are written to out
 *       once per chunk of panels, a run of up to {@link #CHUNK}·MR contiguous floats per token.</li>
 * </ol>
 * Every weight byte is read and dequantized once per call; the xT block of the current K block ([KC][nPad], 128 KiB
 * at n = 128) stays in L2 while the worker walks its panels. The twin is the scalar float dot of
 * {@link DequantRows}-dequantized rows (MatmulBatchedTest).
 */
final class MatmulBatched implements WorkerPool.Task {
    /** Columns per K block (a multiple of every block size, 32 and 256). */
    static final int KC = 256;
    /** Weight rows per panel. */
    static final int MR = 6;
    /** Tokens per micro-kernel call (two float vectors). */
    static final int NT = 16;
    /** Most panels claimed at once (their rows are written to out together). */
    static final int CHUNK = 16;
    private static final VectorSpecies<Float> F = VectorShapes.F8; // 2 vectors = NT tokens; Matmul calls this only where VectorShapes.TILES_256

    private final WorkerPool pool;
    private float[] xT = new float[0];     // [nPad/NT][K][NT]
    private final float[][] panel;         // per worker [MR][KC]
    private float[][] acc;                 // per worker [CHUNK·MR][nPad]

    private final java.util.concurrent.atomic.AtomicInteger nextPanel = new java.util.concurrent.atomic.AtomicInteger();
    // xT holds the transpose of this input (the q/k/v and gate/up projections share theirs)
    private float[] xTOf;
    private int xTVersion, xTN, xTK;

    // the current call
    private CpuWeight w;
    private float[] x, out;
    private int n, nPad, k, rows;
    private boolean transposing;

    MatmulBatched(WorkerPool pool) {
        this.pool = pool;
        this.panel = new float[pool.size()][MR * KC];
        this.acc = new float[pool.size()][CHUNK * MR * NT];
    }

    /** Forgets the cached transpose (an op may have written the input without a version bump). */
    void invalidate() {
        xTOf = null;
    }

    /** out[t][r] for t < n (n ≥ 1), r < rows of w; x is [n][cols]. Allocates only when n or K grow past all earlier calls. */
    void run(CpuWeight w, float[] x, int xVersion, int n, float[] out) {
        this.w = w;
        this.x = x;
        this.out = out;
        this.n = n;
        this.k = (int) w.cols();
        this.rows = (int) w.rows();
        this.nPad = (n + NT - 1) / NT * NT;
        if (acc[0].length < CHUNK * MR * nPad) acc = new float[pool.size()][CHUNK * MR * nPad];
        if (xTOf != x || xTVersion != xVersion || xTN != n || xTK != k) {
            if (xT.length < k * nPad) xT = new float[k * nPad];
            xTOf = null;
            transposing = true;
            pool.run(this);
            transposing = false;
            xTOf = x;
            xTVersion = xVersion;
            xTN = n;
            xTK = k;
        }
        nextPanel.set(0);
        pool.run(this);
        this.w = null;
        this.x = this.out = null;
    }

    @Override
    public void run(int worker, int nw) {
        if (transposing) {
            int per = (k + nw - 1) / nw;
            int k0 = Math.min(k, worker * per), k1 = Math.min(k, k0 + per);
            transpose(x, n, k, k0, k1, xT, nPad);
            return;
        }
        // panels claimed in chunks (about 1/4 of a worker's share, at most CHUNK), so a worker slowed by anything else
        // on its core does less
        int panels = (rows + MR - 1) / MR;
        int chunk = Math.max(1, Math.min(CHUNK, panels / (4 * nw)));
        float[] pw = panel[worker], aw = acc[worker];
        for (int p0; (p0 = nextPanel.getAndAdd(chunk)) < panels; ) {
            int p1 = Math.min(panels, p0 + chunk);
            panels(p0, p1, pw, aw);
        }
    }

    /** Panels [p0, p1): partial sums in aw [(p1-p0)·MR][nPad], written to out once, token rows contiguous. */
    private void panels(int p0, int p1, float[] pw, float[] aw) {
        GgmlType t = w.type();
        MemorySegment seg = w.data();
        long rb = w.rowBytes();
        for (int p = p0; p < p1; p++) {
            int r0 = p * MR, valid = Math.min(MR, rows - r0), ab = (p - p0) * MR * nPad;
            for (int kb = 0; kb < k; kb += KC) {
                int len = Math.min(KC, k - kb);
                long blockOff = t.byteSize(kb);
                for (int i = 0; i < valid; i++) DequantRows.row(t, seg, rb * (r0 + i) + blockOff, len, pw, i * KC);
                if (valid < MR) java.util.Arrays.fill(pw, valid * KC, MR * KC, 0f);
                for (int tg = 0; tg < nPad; tg += NT) kernel(pw, len, xT, kb * nPad + tg, nPad, aw, ab + tg, kb == 0);
            }
        }
        int r0 = p0 * MR, nr = Math.min(rows, p1 * MR) - r0;
        for (int tok = 0; tok < n; tok++) {
            int o = tok * rows + r0;
            for (int i = 0; i < nr; i++) out[o + i] = aw[i * nPad + tok];
        }
    }

    /** xT[k][t] = x[t][k] for k in [k0, k1), t < nPad (0 for t ≥ n). */
    static void transpose(float[] x, int n, int k, int k0, int k1, float[] xT, int nPad) {
        for (int kk = k0; kk < k1; kk += 16) {
            int ke = Math.min(k1, kk + 16);
            for (int t = 0; t < n; t++) {
                int xo = t * k;
                for (int j = kk; j < ke; j++) xT[j * nPad + t] = x[xo + j];
            }
            for (int j = kk; j < ke; j++) java.util.Arrays.fill(xT, j * nPad + n, j * nPad + nPad, 0f);
        }
    }

    /**
     * a[i][tg..tg+16) (+)= Σ_{k<len} p[i·KC + k] · xT[xo + k·NT .. +16) for the MR panel rows i; a is [MR][nPad].
     * 12 accumulators, per k 2 vector loads and 6 broadcasts feeding 12 FMAs.
     */
    static void kernel(float[] p, int len, float[] xT, int xo, int nPad, float[] a, int tg, boolean first) {
        FloatVector a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51;
        int o0 = tg, o1 = nPad + tg, o2 = 2 * nPad + tg, o3 = 3 * nPad + tg, o4 = 4 * nPad + tg, o5 = 5 * nPad + tg;
        if (first) {
            a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = a40 = a41 = a50 = a51 = FloatVector.zero(F);
        } else {
            a00 = FloatVector.fromArray(F, a, o0); a01 = FloatVector.fromArray(F, a, o0 + 8);
            a10 = FloatVector.fromArray(F, a, o1); a11 = FloatVector.fromArray(F, a, o1 + 8);
            a20 = FloatVector.fromArray(F, a, o2); a21 = FloatVector.fromArray(F, a, o2 + 8);
            a30 = FloatVector.fromArray(F, a, o3); a31 = FloatVector.fromArray(F, a, o3 + 8);
            a40 = FloatVector.fromArray(F, a, o4); a41 = FloatVector.fromArray(F, a, o4 + 8);
            a50 = FloatVector.fromArray(F, a, o5); a51 = FloatVector.fromArray(F, a, o5 + 8);
        }
        for (int kk = 0; kk < len; kk++) {
            int xi = xo + kk * nPad;
            FloatVector x0 = FloatVector.fromArray(F, xT, xi), x1 = FloatVector.fromArray(F, xT, xi + 8);
            FloatVector w = FloatVector.broadcast(F, p[kk]);
            a00 = x0.fma(w, a00);
            a01 = x1.fma(w, a01);
            w = FloatVector.broadcast(F, p[KC + kk]);
            a10 = x0.fma(w, a10);
            a11 = x1.fma(w, a11);
            w = FloatVector.broadcast(F, p[2 * KC + kk]);
            a20 = x0.fma(w, a20);
            a21 = x1.fma(w, a21);
            w = FloatVector.broadcast(F, p[3 * KC + kk]);
            a30 = x0.fma(w, a30);
            a31 = x1.fma(w, a31);
            w = FloatVector.broadcast(F, p[4 * KC + kk]);
            a40 = x0.fma(w, a40);
            a41 = x1.fma(w, a41);
            w = FloatVector.broadcast(F, p[5 * KC + kk]);
            a50 = x0.fma(w, a50);
            a51 = x1.fma(w, a51);
        }
        a00.intoArray(a, o0); a01.intoArray(a, o0 + 8);
        a10.intoArray(a, o1); a11.intoArray(a, o1 + 8);
        a20.intoArray(a, o2); a21.intoArray(a, o2 + 8);
        a30.intoArray(a, o3); a31.intoArray(a, o3 + 8);
        a40.intoArray(a, o4); a41.intoArray(a, o4 + 8);
        a50.intoArray(a, o5); a51.intoArray(a, o5 + 8);
    }
}
