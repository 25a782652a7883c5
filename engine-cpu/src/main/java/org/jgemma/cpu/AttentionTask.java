package org.jgemma.cpu;

import org.jgemma.cpu.CpuMemory.CpuKv;

/**
 * Causal grouped-query attention with an optional sliding window over a float32 KV cache (FACTS §3.7): for query
 * token t at position p and head h (KV head h / (nHead/nKvHead)) the keys at positions p' ≤ p with p - p' < window
 * (when window > 0) and still in the cache; scores q·k in float times {@code scale}, softmax with the max subtracted,
 * out = Σ softmax · v. The workers claim (token, KV head) pairs, heaviest first, and do the group's query heads
 * together; each has a scores scratch.
 */
final class AttentionTask implements WorkerPool.Task {
    private final WorkerPool pool;
    private float[][] scores;              // per worker [group][slots]
    private int maxGroup = 1, slots = 1;

    private float[] q, out;
    private CpuKv c;
    private int n, nHead, nKvHead, headDim, window, horizon;
    private int[] pos;
    private float scale;
    private final java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();

    AttentionTask(WorkerPool pool) {
        this.pool = pool;
        this.scores = new float[pool.size()][1];
    }

    void ensureSlots(int slots) {
        if (scores[0].length < slots * maxGroup) scores = new float[pool.size()][slots * maxGroup];
        this.slots = Math.max(this.slots, slots);
    }

    void run(float[] q, CpuKv c, int n, int[] pos, int nHead, int nKvHead, int headDim, int window, float scale, float[] out) {
        run(q, c, n, pos, nHead, nKvHead, headDim, window, scale, -1, out);
    }

    /** With the causal limit lifted to position {@code horizon} (-1: causal); see Backend#attentionNonCausal. */
    void run(float[] q, CpuKv c, int n, int[] pos, int nHead, int nKvHead, int headDim, int window, float scale, int horizon, float[] out) {
        this.scale = scale;
        this.horizon = horizon;
        if (nHead % nKvHead != 0) throw new IllegalArgumentException("attention: " + nHead + " heads not a multiple of " + nKvHead + " KV heads");
        if (nHead / nKvHead > maxGroup) { // a model with wider groups than seen so far: grow once
            maxGroup = nHead / nKvHead;
            scores = new float[pool.size()][Math.max(slots, c.slots) * maxGroup];
        }
        if (scores[0].length < c.slots * maxGroup) scores = new float[pool.size()][c.slots * maxGroup];
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
        // (token, KV head) items claimed one at a time from the last token down: later tokens see more keys, so the
        // heaviest go first and the workers finish together. The query heads of the KV head's group are done together,
        // so each K and V row is read once for all of them.
        int group = nHead / nKvHead, kvDim = c.kvDim, slots = c.slots;
        int items = n * nKvHead;
        float[] s = scores[w];
        for (int claimed; (claimed = next.getAndIncrement()) < items; ) {
            int it = items - 1 - claimed;
            int t = it / nKvHead, g = it % nKvHead;
            int p = pos[t], last = Math.max(p, horizon);     // last = p unless an image chunk lifts the causal limit
            int start = window > 0 ? Math.max(0, p - window + 1) : 0;
            start = Math.max(start, last - slots + 1);
            int len = last - start + 1;
            int kvOff = g * headDim;
            int q0 = (t * nHead + g * group) * headDim; // the group's query heads are consecutive
            for (int pp = start; pp <= last; pp++) {
                int ko = (pp % slots) * kvDim + kvOff;
                for (int j = 0; j < group; j++) s[j * slots + pp - start] = scale * Matmul.dot(q, q0 + j * headDim, c.k, ko, headDim);
            }
            for (int j = 0; j < group; j++) {
                int so = j * slots;
                float max = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < len; i++) max = Math.max(max, s[so + i]);
                float sum = 0;
                for (int i = 0; i < len; i++) {
                    float e = (float) Math.exp(s[so + i] - max);
                    s[so + i] = e;
                    sum += e;
                }
                float inv = 1.0f / sum;
                for (int i = 0; i < len; i++) s[so + i] *= inv;
            }
            java.util.Arrays.fill(out, q0, q0 + group * headDim, 0f);
            for (int pp = start; pp <= last; pp++) {
                int vo = (pp % slots) * kvDim + kvOff;
                for (int j = 0; j < group; j++) CpuOps.axpy(s[j * slots + pp - start], c.v, vo, out, q0 + j * headDim, headDim);
            }
        }
    }
}
