package org.jgemma.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jgemma.cpu.CpuMemory.CpuKv;

/**
 * Causal grouped-query attention with an optional sliding window over a float32 KV cache (FACTS §3.7): for query
 * token t at position p and head h (KV head h / (nHead/nKvHead)) the keys at positions p' ≤ p with p - p' < window
 * (when window > 0) and still in the cache; scores q·k in float times {@code scale}, softmax with the max subtracted,
 * out = Σ softmax · v. The workers claim (token, head) pairs, heaviest first; each has a scores scratch.
 */
final class AttentionTask implements WorkerPool.Task {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private final WorkerPool pool;
    private float[][] scores;

    private float[] q, out;
    private CpuKv c;
    private int n, nHead, nKvHead, headDim, window;
    private int[] pos;
    private float scale;
    private final java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();

    AttentionTask(WorkerPool pool) {
        this.pool = pool;
        this.scores = new float[pool.size()][1];
    }

    void ensureSlots(int slots) {
        if (scores[0].length < slots) scores = new float[pool.size()][slots];
    }

    void run(float[] q, CpuKv c, int n, int[] pos, int nHead, int nKvHead, int headDim, int window, float scale, float[] out) {
        this.scale = scale;
        if (nHead % nKvHead != 0) throw new IllegalArgumentException("attention: " + nHead + " heads not a multiple of " + nKvHead + " KV heads");
        this.q = q;
        this.c = c;
        this.n = n;
        this.pos = pos;
        this.nHead = nHead;
        this.nKvHead = nKvHead;
        this.headDim = headDim;
        this.window = window;
        this.out = out;
        next.set(0);
        if (n * nHead == 1) run(0, 1);
        else pool.run(this);
        this.q = this.out = null;
        this.c = null;
    }

    @Override
    public void run(int w, int nw) {
        // (token, head) items claimed one at a time from the last token down: later tokens see more keys, so the
        // heaviest go first and the workers finish together
        int items = n * nHead;
        float[] s = scores[w];
        int group = nHead / nKvHead, kvDim = c.kvDim, slots = c.slots;
        for (int claimed; (claimed = next.getAndIncrement()) < items; ) {
            int it = items - 1 - claimed;
            int t = it / nHead, h = it % nHead;
            int p = pos[t];
            int start = window > 0 ? Math.max(0, p - window + 1) : 0;
            start = Math.max(start, p - slots + 1);
            int kvOff = (h / group) * headDim;
            int qo = (t * nHead + h) * headDim;
            float max = Float.NEGATIVE_INFINITY;
            for (int pp = start; pp <= p; pp++) {
                float sc = scale * Matmul.dot(q, qo, c.k, (pp % slots) * kvDim + kvOff, headDim);
                s[pp - start] = sc;
                if (sc > max) max = sc;
            }
            float sum = 0;
            for (int j = 0; j <= p - start; j++) {
                float e = (float) Math.exp(s[j] - max);
                s[j] = e;
                sum += e;
            }
            float inv = 1.0f / sum;
            java.util.Arrays.fill(out, qo, qo + headDim, 0f);
            for (int pp = start; pp <= p; pp++) {
                CpuOps.axpy(s[pp - start] * inv, c.v, (pp % slots) * kvDim + kvOff, out, qo, headDim);
            }
        }
    }
}
