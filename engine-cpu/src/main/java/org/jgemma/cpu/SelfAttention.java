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
 *       the workers splitting the heads;</li>
 *   <li>the workers claim (head, tile of {@link #QT} queries) items; for a tile, scores {@code S[QT][nPad]} come from a
 *       register-blocked kernel: per key-vector pair, QT × 2 accumulators, per e two contiguous loads of kT and QT
 *       broadcasts of q;</li>
 *   <li>softmax per query row (max, vector exp, lanes summed in {@link Lanes#sum}'s fixed order);</li>
 *   <li>{@code out = P·V / Σ}: per pair of head-dimension vectors, QT × 2 accumulators, per key two loads of the V row
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

    /** kT[h][e][j] = k[j][h][e], zero beyond n. */
    private void transpose(int h) {
        int d = nHead * headDim, base = h * headDim * nPad;
        for (int j = 0; j < n; j++) {
            int ko = j * d + h * headDim;
            for (int e = 0; e < headDim; e++) kT[base + e * nPad + j] = k[ko + e];
        }
        for (int e = 0; e < headDim; e++) java.util.Arrays.fill(kT, base + e * nPad + n, base + (e + 1) * nPad, 0f);
    }

    /** Queries i0 .. i0+m-1 (m ≤ QT) of head h. */
    private void tile(int h, int i0, int m, float[] s) {
        int d = nHead * headDim, hd = headDim, np = nPad, kb = h * hd * np;
        int q0 = i0 * d + h * hd, q1 = q0 + Math.min(1, m - 1) * d, q2 = q0 + Math.min(2, m - 1) * d, q3 = q0 + Math.min(3, m - 1) * d;
        float[] kT = this.kT, q = this.q;
        // S = scale · Q·Kᵀ, two key vectors at a time (rows past m repeat the last query and are ignored)
        int j = 0;
        for (; j + 2 * L <= np; j += 2 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
            for (int e = 0, ko = kb + j; e < hd; e++, ko += np) {
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
        for (; j < np; j += L) { // one key vector left (np is a multiple of L)
            FloatVector a0 = FloatVector.zero(F), b0 = a0, c0 = a0, d0 = a0;
            for (int e = 0, ko = kb + j; e < hd; e++, ko += np) {
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
        // softmax numerators, unnormalised: p = exp(s - max); zero beyond n so the P·V loop may run over nPad keys
        float[] inv = new float[QT];
        for (int r = 0; r < m; r++) inv[r] = 1f / softmaxRow(s, r * np);
        // out = P·V / Σ, two head-dimension vectors at a time
        int vb = h * hd, e0 = 0;
        for (; e0 + 2 * L <= hd; e0 += 2 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
            for (int jj = 0, vo = vb + e0; jj < n; jj++, vo += d) {
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
            store(a0, a1, inv[0], q0 + e0, 0, m);
            store(b0, b1, inv[1], q1 + e0, 1, m);
            store(c0, c1, inv[2], q2 + e0, 2, m);
            store(d0, d1, inv[3], q3 + e0, 3, m);
        }
        for (; e0 < hd; e0++) { // head dimensions past the last pair of vectors (72 = 4·16 + 8: the last 8 here)
            for (int r = 0; r < m; r++) {
                float acc = 0;
                for (int jj = 0, vo = vb + e0; jj < n; jj++, vo += d) acc = Math.fma(s[r * np + jj], v[vo], acc);
                out[(i0 + r) * d + h * hd + e0] = acc * inv[r];
            }
        }
    }

    private void store(FloatVector lo, FloatVector hi, float inv, int o, int r, int m) {
        if (r >= m) return;
        lo.mul(inv).intoArray(out, o);
        hi.mul(inv).intoArray(out, o + L);
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
