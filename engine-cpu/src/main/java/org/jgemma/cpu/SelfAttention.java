package org.jgemma.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Full (non-causal) multi-head self-attention over n tokens (Backend#selfAttention: the SigLIP encoder, 4096 patches at
 * 896 px), arranged as two small GEMMs per head so it is bound by FMA throughput rather than by dot-product reductions:
 * <ol>
 *   <li>K of every head is transposed once into kT {@code [nHead][headDim][nPad]} (nPad = n rounded up to 8, zero padded),
 *       and V gathered into vH {@code [nHead][n][headDim]} (each head's rows contiguous), the workers splitting the heads;</li>
 *   <li>the workers claim (head, tile of {@link #QT} queries) items; for a tile, scores {@code S[QT][nPad]} come from a
 *       register-blocked kernel: per key-vector pair, QT × 2 accumulators, per e two contiguous loads of kT and QT
 *       broadcasts of q;</li>
 *   <li>softmax per query row (max, vector exp, lanes summed in {@link Lanes#sum}'s fixed order);</li>
 *   <li>{@code out = P·V / Σ}: per pair of head-dimension vectors, QT × 2 accumulators, per key two loads of the vH row
 *       and QT broadcasts of p.</li>
 * </ol>
 * Nothing is allocated per call once the scratch has grown to the largest n seen. The slow twin is
 * org.jgemma.backend.SelfAttentionReference (SelfAttentionTest).
 */
final class SelfAttention implements WorkerPool.Task {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final int L = 8; // F.length()
    /** Queries per tile. */
    static final int QT = 4;

    private final WorkerPool pool;
    private float[] kT = new float[0];   // [nHead][headDim][nPad]
    private float[] vH = new float[0];   // [nHead][n][headDim]: each head's V rows contiguous
    private float[][] scores;            // per worker [QT][nPad]
    private final AtomicInteger next = new AtomicInteger();

    // the current call
    private float[] q, k, v, out;
    private int n, nPad, nHead, headDim;
    private float scale;
    private boolean transposing;

    SelfAttention(WorkerPool pool) {
        this.pool = pool;
        this.scores = new float[pool.size()][0];
    }

    /** q, k, v, out: [n][nHead][headDim]; out differs from the inputs. */
    void run(float[] q, float[] k, float[] v, int n, int nHead, int headDim, float scale, float[] out) {
        this.q = q;
        this.k = k;
        this.v = v;
        this.out = out;
        this.n = n;
        this.nPad = (n + L - 1) / L * L;
        this.nHead = nHead;
        this.headDim = headDim;
        this.scale = scale;
        long kTLen = (long) nHead * headDim * nPad;
        if (kT.length < kTLen) kT = new float[Math.toIntExact(kTLen)];
        if (vH.length < (long) n * nHead * headDim) vH = new float[Math.toIntExact((long) n * nHead * headDim)];
        if (scores[0].length < QT * nPad) scores = new float[pool.size()][QT * nPad];
        try {
            next.set(0);
            transposing = true;
            pool.run(this);
            next.set(0);
            transposing = false;
            pool.run(this);
        } finally {
            this.q = this.k = this.v = this.out = null;
        }
    }

    @Override
    public boolean dynamic() {
        return true;
    }

    @Override
    public void run(int w, int nw) {
        if (transposing) {
            for (int h; (h = next.getAndIncrement()) < nHead; ) transpose(h);
            return;
        }
        int tiles = (n + QT - 1) / QT, items = nHead * tiles;
        float[] s = scores[w];
        for (int it; (it = next.getAndIncrement()) < items; ) {
            int h = it / tiles, i0 = (it % tiles) * QT;
            tile(h, i0, Math.min(QT, n - i0), s);
        }
    }

    /** kT[h][e][j] = k[j][h][e], zero beyond n; vH[h][j] = v[j][h]. */
    private void transpose(int h) {
        int d = nHead * headDim, base = h * headDim * nPad, vb = h * n * headDim;
        for (int j = 0; j < n; j++) {
            int ko = j * d + h * headDim;
            for (int e = 0; e < headDim; e++) kT[base + e * nPad + j] = k[ko + e];
            System.arraycopy(v, ko, vH, vb + j * headDim, headDim);
        }
        for (int e = 0; e < headDim; e++) java.util.Arrays.fill(kT, base + e * nPad + n, base + (e + 1) * nPad, 0f);
    }

    /**
     * Queries i0 .. i0+m-1 (m ≤ QT) of head h. The kernels are small static methods: C2 stops inlining Vector API calls
     * once a method holds a few dozen of them, and a call it does not inline boxes every vector.
     */
    private void tile(int h, int i0, int m, float[] s) {
        int d = nHead * headDim, hd = headDim, np = nPad, kb = h * hd * np;
        int q0 = i0 * d + h * hd, q1 = q0 + Math.min(1, m - 1) * d, q2 = q0 + Math.min(2, m - 1) * d, q3 = q0 + Math.min(3, m - 1) * d;
        // S = scale · Q·Kᵀ (rows past m repeat the last query and are ignored)
        int j = 0;
        for (; j + 2 * L <= np; j += 2 * L) scores2(kT, kb + j, np, hd, q, q0, q1, q2, q3, scale, s, j);
        for (; j < np; j += L) scores1(kT, kb + j, np, hd, q, q0, q1, q2, q3, scale, s, j);
        // softmax numerators, unnormalised: p = exp(s - max), zero beyond n
        float i0v = 1f / softmaxRow(s, 0);
        float i1v = m > 1 ? 1f / softmaxRow(s, np) : 0f;
        float i2v = m > 2 ? 1f / softmaxRow(s, 2 * np) : 0f;
        float i3v = m > 3 ? 1f / softmaxRow(s, 3 * np) : 0f;
        // out = P·V / Σ (rows past m are written to the last row first, then overwritten by it: q3 ≥ q2 ≥ q1 ≥ q0 in order)
        float[] vH = this.vH;
        int vb = h * n * hd, e0 = 0;
        for (; e0 + 2 * L <= hd; e0 += 2 * L) {
            pv2(s, np, n, vH, vb + e0, hd, out, q3 + e0, i3v, q2 + e0, i2v, q1 + e0, i1v, q0 + e0, i0v);
        }
        for (; e0 + L <= hd; e0 += L) pv1(s, np, n, vH, vb + e0, hd, out, q3 + e0, i3v, q2 + e0, i2v, q1 + e0, i1v, q0 + e0, i0v);
        for (; e0 < hd; e0++) { // head dimensions past the last vector
            for (int r = 0; r < m; r++) {
                float acc = 0;
                for (int jj = 0, vo = vb + e0; jj < n; jj++, vo += hd) acc = Math.fma(s[r * np + jj], vH[vo], acc);
                out[(i0 + r) * d + h * hd + e0] = acc * (r == 0 ? i0v : r == 1 ? i1v : r == 2 ? i2v : i3v);
            }
        }
    }

    /** s[r·np + j ..+16) = scale · Σ_e q_r[e]·kT[e][j ..+16) for the four query rows at q0..q3; kT row e at ko + e·np. */
    static void scores2(float[] kT, int ko, int np, int hd, float[] q, int q0, int q1, int q2, int q3, float scale, float[] s, int j) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        for (int e = 0; e < hd; e++, ko += np) {
            FloatVector k0 = FloatVector.fromArray(F, kT, ko), k1 = FloatVector.fromArray(F, kT, ko + L);
            FloatVector x = FloatVector.broadcast(F, q[q0 + e]);
            a0 = x.fma(k0, a0);
            a1 = x.fma(k1, a1);
            x = FloatVector.broadcast(F, q[q1 + e]);
            b0 = x.fma(k0, b0);
            b1 = x.fma(k1, b1);
            x = FloatVector.broadcast(F, q[q2 + e]);
            c0 = x.fma(k0, c0);
            c1 = x.fma(k1, c1);
            x = FloatVector.broadcast(F, q[q3 + e]);
            d0 = x.fma(k0, d0);
            d1 = x.fma(k1, d1);
        }
        a0.mul(scale).intoArray(s, j);
        a1.mul(scale).intoArray(s, j + L);
        b0.mul(scale).intoArray(s, np + j);
        b1.mul(scale).intoArray(s, np + j + L);
        c0.mul(scale).intoArray(s, 2 * np + j);
        c1.mul(scale).intoArray(s, 2 * np + j + L);
        d0.mul(scale).intoArray(s, 3 * np + j);
        d1.mul(scale).intoArray(s, 3 * np + j + L);
    }

    /** {@link #scores2} for one key vector. */
    static void scores1(float[] kT, int ko, int np, int hd, float[] q, int q0, int q1, int q2, int q3, float scale, float[] s, int j) {
        FloatVector a0 = FloatVector.zero(F), b0 = a0, c0 = a0, d0 = a0;
        for (int e = 0; e < hd; e++, ko += np) {
            FloatVector k0 = FloatVector.fromArray(F, kT, ko);
            a0 = FloatVector.broadcast(F, q[q0 + e]).fma(k0, a0);
            b0 = FloatVector.broadcast(F, q[q1 + e]).fma(k0, b0);
            c0 = FloatVector.broadcast(F, q[q2 + e]).fma(k0, c0);
            d0 = FloatVector.broadcast(F, q[q3 + e]).fma(k0, d0);
        }
        a0.mul(scale).intoArray(s, j);
        b0.mul(scale).intoArray(s, np + j);
        c0.mul(scale).intoArray(s, 2 * np + j);
        d0.mul(scale).intoArray(s, 3 * np + j);
    }

    /**
     * out[o_r ..+16) = inv_r · Σ_j p_r[j]·v[j][vo ..+16) for the four rows r of p (s, rows np apart), V rows d apart.
     * Stored last row first: rows past m share the last real row's offset and are overwritten by it.
     */
    static void pv2(float[] s, int np, int n, float[] v, int vo, int d, float[] out, int o3, float i3, int o2, float i2, int o1,
                    float i1, int o0, float i0) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        for (int jj = 0; jj < n; jj++, vo += d) {
            FloatVector v0 = FloatVector.fromArray(F, v, vo), v1 = FloatVector.fromArray(F, v, vo + L);
            FloatVector x = FloatVector.broadcast(F, s[jj]);
            a0 = x.fma(v0, a0);
            a1 = x.fma(v1, a1);
            x = FloatVector.broadcast(F, s[np + jj]);
            b0 = x.fma(v0, b0);
            b1 = x.fma(v1, b1);
            x = FloatVector.broadcast(F, s[2 * np + jj]);
            c0 = x.fma(v0, c0);
            c1 = x.fma(v1, c1);
            x = FloatVector.broadcast(F, s[3 * np + jj]);
            d0 = x.fma(v0, d0);
            d1 = x.fma(v1, d1);
        }
        d0.mul(i3).intoArray(out, o3);
        d1.mul(i3).intoArray(out, o3 + L);
        c0.mul(i2).intoArray(out, o2);
        c1.mul(i2).intoArray(out, o2 + L);
        b0.mul(i1).intoArray(out, o1);
        b1.mul(i1).intoArray(out, o1 + L);
        a0.mul(i0).intoArray(out, o0);
        a1.mul(i0).intoArray(out, o0 + L);
    }

    /** {@link #pv2} for one vector of head dimensions. */
    static void pv1(float[] s, int np, int n, float[] v, int vo, int d, float[] out, int o3, float i3, int o2, float i2, int o1,
                    float i1, int o0, float i0) {
        FloatVector a0 = FloatVector.zero(F), b0 = a0, c0 = a0, d0 = a0;
        for (int jj = 0; jj < n; jj++, vo += d) {
            FloatVector v0 = FloatVector.fromArray(F, v, vo);
            a0 = FloatVector.broadcast(F, s[jj]).fma(v0, a0);
            b0 = FloatVector.broadcast(F, s[np + jj]).fma(v0, b0);
            c0 = FloatVector.broadcast(F, s[2 * np + jj]).fma(v0, c0);
            d0 = FloatVector.broadcast(F, s[3 * np + jj]).fma(v0, d0);
        }
        d0.mul(i3).intoArray(out, o3);
        c0.mul(i2).intoArray(out, o2);
        b0.mul(i1).intoArray(out, o1);
        a0.mul(i0).intoArray(out, o0);
    }

    /** s[o .. o+n) = exp(s - max), zero to o+nPad; returns Σ (lanes summed in a fixed order). */
    private float softmaxRow(float[] s, int o) {
        int j = 0;
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (; j + L <= n; j += L) mv = mv.max(FloatVector.fromArray(F, s, o + j));
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; j < n; j++) max = Math.max(max, s[o + j]);
        FloatVector sv = FloatVector.zero(F);
        j = 0;
        for (; j + L <= n; j += L) {
            FloatVector e = FloatVector.fromArray(F, s, o + j).sub(max).lanewise(VectorOperators.EXP);
            e.intoArray(s, o + j);
            sv = sv.add(e);
        }
        float sum = Lanes.sum(sv);
        for (; j < n; j++) {
            float e = (float) Math.exp(s[o + j] - max);
            s[o + j] = e;
            sum += e;
        }
        for (int jj = n; jj < nPad; jj++) s[o + jj] = 0f;
        return sum;
    }
}
