package org.jgemma.sampling;

import java.util.Arrays;

/**
 * The candidate tokens of one sampling step, as llama.cpp's {@code llama_token_data_array}, and the filters that
 * narrow them (src/llama-sampler.cpp). Logits and probabilities are kept by token id; the candidate list is the
 * first {@link #size()} entries of an id array, in candidate order, {@link #sorted()} when that order is by
 * descending logit (ties: lower id first, so results are deterministic).
 *
 * <p>All arrays are allocated once for a vocabulary size; {@link #load} and the filters allocate nothing, so a
 * token costs no garbage even over Gemma's 262,144 logits. Not thread-safe.
 */
public final class Candidates {
    private final int capacity;
    private final int[] ids;      // [capacity] candidate ids; [0, size) are live
    private final float[] logit;  // [capacity] working logits by token id
    private final float[] prob;   // [capacity] probabilities by token id (valid after softmax / dist)
    private int size;
    private boolean sorted;

    public Candidates(int nVocab) {
        if (nVocab <= 0) throw new IllegalArgumentException("vocabulary size must be positive, got " + nVocab);
        this.capacity = nVocab;
        this.ids = new int[nVocab];
        this.logit = new float[nVocab];
        this.prob = new float[nVocab];
    }

    /** Makes every token {@code 0 .. n-1} a candidate with {@code logits[id]}, unsorted, probabilities zero. */
    public void load(float[] logits, int n) {
        if (n > capacity || n > logits.length) {
            throw new IllegalArgumentException("cannot load " + n + " logits (array " + logits.length + ", capacity " + capacity + ")");
        }
        System.arraycopy(logits, 0, logit, 0, n);
        Arrays.fill(prob, 0, n, 0f);
        for (int i = 0; i < n; i++) ids[i] = i;
        size = n;
        sorted = false;
    }

    /** Like {@link #load}, also setting the probabilities (llama.cpp's tests build arrays with both). */
    public void load(float[] logits, float[] probs, int n) {
        load(logits, n);
        System.arraycopy(probs, 0, prob, 0, n);
    }

    public int capacity() { return capacity; }
    public int size() { return size; }
    public boolean sorted() { return sorted; }

    /** The token id of candidate {@code i} (0 ≤ i < size). */
    public int id(int i) { return ids[checkIndex(i)]; }

    /** The (possibly penalised / scaled) logit of candidate {@code i}. */
    public float logit(int i) { return logit[ids[checkIndex(i)]]; }

    /** The probability of candidate {@code i} as the last softmax / dist left it. */
    public float prob(int i) { return prob[ids[checkIndex(i)]]; }

    private int checkIndex(int i) {
        if (i < 0 || i >= size) throw new IndexOutOfBoundsException("candidate " + i + " of " + size);
        return i;
    }

    // ---- filters, in llama.cpp's default chain order: penalties, top-k, top-p, min-p, temperature, dist ----

    /**
     * Repetition penalties (llama_sampler_penalties_apply) for the tokens of {@code window}: a logit ≤ 0 is
     * multiplied by {@code repeat}, a positive one divided by it; then {@code count·frequency + presence} is
     * subtracted.
     */
    public void penalties(PenaltyWindow window, float repeat, float frequency, float presence) {
        if (window.lastN() == 0 || (repeat == 1f && frequency == 0f && presence == 0f)) return;
        for (int j = 0, n = window.distinct(); j < n; j++) {
            int t = window.distinctToken(j);
            if (t < 0 || t >= capacity) continue;
            int count = window.count(t);
            float l = logit[t];
            l = l <= 0 ? l * repeat : l / repeat;
            logit[t] = l - (count * frequency + (count > 0 ? presence : 0f));
        }
        sorted = false;
    }

    /** Keeps the {@code k} most likely candidates, sorted (llama_sampler_top_k_impl); k ≤ 0 does nothing. */
    public void topK(int k) {
        if (k <= 0) return;
        k = Math.min(k, size);
        if (!sorted) {
            partialSort(k);
            sorted = true;
        }
        size = k;
    }

    /**
     * Nucleus filter (llama_sampler_top_p_apply): softmax, then keep the smallest sorted prefix whose cumulative
     * probability reaches {@code p} (and at least {@code minKeep}). p ≥ 1 does nothing. Sorts the top 256 first
     * and the whole list only when those do not reach p.
     */
    public void topP(float p, int minKeep) {
        if (p >= 1f) return;
        softmax(false);
        int k = size;
        if (!sorted) {
            k = Math.min(256, size);
            partialSort(k);
        }
        float cum = 0f;
        int last = size;
        for (int i = 0; i < size; i++) {
            cum += prob[ids[i]];
            if (cum >= p && i + 1 >= minKeep) {
                last = i + 1;
                break;
            }
            if (i == k - 1 && k < size) {
                partialSort(size); // the prefix [0, k) stays as it is: same order, ties broken by id
                k = size;
            }
        }
        sorted = true;
        size = last;
    }

    /**
     * Min-p filter (llama_sampler_min_p_apply): keeps candidates whose probability is at least {@code p} times the
     * most likely one's, i.e. {@code logit ≥ max + ln p}, in their current order; at least {@code minKeep}, and
     * always the most likely. p ≤ 0 does nothing.
     */
    public void minP(float p, int minKeep) {
        if (p <= 0f || size == 0) return;
        boolean applied = false;
        if (!sorted) {
            float max = -Float.MAX_VALUE;
            for (int i = 0; i < size; i++) max = Math.max(max, logit[ids[i]]);
            float minLogit = max + (float) Math.log(p);
            int count = 0;
            for (int i = 0; i < size; i++) if (logit[ids[i]] >= minLogit) count++;
            if (count > 0 && count >= minKeep) {
                int w = 0;
                for (int i = 0; i < size; i++) {
                    int id = ids[i];
                    if (logit[id] >= minLogit) {
                        ids[i] = ids[w];
                        ids[w++] = id;
                    }
                }
                size = w;
                applied = true;
            }
        }
        if (!applied) {
            if (!sorted) {
                partialSort(size);
                sorted = true;
            }
            float minLogit = logit[ids[0]] + (float) Math.log(p);
            int i = 1; // the first token always stays
            for (; i < size; i++) {
                if (logit[ids[i]] < minLogit && i >= minKeep) break;
            }
            size = i;
        }
    }

    /**
     * Divides the logits by {@code t} (llama_sampler_temp_impl); t ≤ 0 keeps only the first candidate with the
     * highest logit (the others get -inf), which makes the final draw greedy.
     */
    public void temperature(float t) {
        if (size == 0) return;
        if (t <= 0f) {
            int maxI = 0;
            float maxL = logit[ids[0]];
            for (int i = 1; i < size; i++) {
                int id = ids[i];
                if (logit[id] > maxL) {
                    logit[ids[maxI]] = Float.NEGATIVE_INFINITY;
                    maxI = i;
                    maxL = logit[id];
                } else {
                    logit[id] = Float.NEGATIVE_INFINITY;
                }
            }
            return;
        }
        for (int i = 0; i < size; i++) logit[ids[i]] /= t;
    }

    /** Softmax over the candidates into their probabilities (llama_sampler_softmax_impl), sorting first if asked. */
    public void softmax(boolean sort) {
        if (size == 0) throw new IllegalStateException("softmax over no candidates");
        if (sort && !sorted) {
            partialSort(size);
            sorted = true;
        }
        float max = logit[ids[0]];
        if (!sorted) for (int i = 1; i < size; i++) max = Math.max(max, logit[ids[i]]);
        float sum = 0f;
        for (int i = 0; i < size; i++) {
            int id = ids[i];
            float e = (float) Math.exp(logit[id] - max);
            prob[id] = e;
            sum += e;
        }
        for (int i = 0; i < size; i++) prob[ids[i]] /= sum;
    }

    /**
     * Draws a candidate from the softmax of the logits with one uniform number of {@code rng}, and leaves the
     * normalised probabilities behind (llama_sampler_dist_apply). Returns the token id.
     */
    public int dist(Mt19937 rng) {
        if (size == 0) throw new IllegalStateException("no candidates left to sample from");
        if (size == 1) {
            prob[ids[0]] = 1f;
            return ids[0];
        }
        float max = logit[ids[0]];
        if (!sorted) for (int i = 1; i < size; i++) max = Math.max(max, logit[ids[i]]);
        double sum = 0;
        for (int i = 0; i < size; i++) {
            int id = ids[i];
            float e = (float) Math.exp(logit[id] - max);
            prob[id] = e;
            sum += e;
        }
        double target = sum * rng.nextCanonicalDouble();
        double run = 0;
        int selected = -1;
        for (int i = 0; i < size; i++) {
            int id = ids[i];
            if (selected < 0) {
                run += prob[id];
                if (run >= target) selected = id;
            }
            prob[id] = (float) (prob[id] / sum);
        }
        return selected >= 0 ? selected : ids[size - 1];
    }

    /** The candidate with the highest logit (the first one in candidate order on ties). */
    public int greedy() {
        if (size == 0) throw new IllegalStateException("no candidates left to sample from");
        int best = ids[0];
        for (int i = 1; i < size; i++) {
            if (logit[ids[i]] > logit[best]) best = ids[i];
        }
        return best;
    }

    // ---- partial selection ------------------------------------------------------------------------------

    /**
     * Reorders the candidates so that {@code [0, k)} holds the k best, best first, and {@code [k, size)} the rest in
     * some order (a permutation: nothing is lost). A k-element min-heap scan, O(size · log k), then a heap sort of
     * the k; no allocation.
     */
    void partialSort(int k) {
        if (k <= 0) return;
        k = Math.min(k, size);
        for (int i = k / 2 - 1; i >= 0; i--) siftDown(i, k);
        for (int i = k; i < size; i++) {
            if (better(ids[i], ids[0])) {
                int t = ids[0];
                ids[0] = ids[i];
                ids[i] = t;
                siftDown(0, k);
            }
        }
        for (int end = k - 1; end > 0; end--) { // the worst goes to the end: descending order
            int t = ids[0];
            ids[0] = ids[end];
            ids[end] = t;
            siftDown(0, end);
        }
        if (k == size) sorted = true;
    }

    /** Whether token a ranks before token b: higher logit, then lower id. */
    private boolean better(int a, int b) {
        float la = logit[a], lb = logit[b];
        return la > lb || (la == lb && a < b);
    }

    /** Min-heap on "better": the root is the worst of the heap [0, n). */
    private void siftDown(int i, int n) {
        int x = ids[i];
        while (true) {
            int c = 2 * i + 1;
            if (c >= n) break;
            if (c + 1 < n && better(ids[c], ids[c + 1])) c++;
            if (!better(x, ids[c])) break;
            ids[i] = ids[c];
            i = c;
        }
        ids[i] = x;
    }
}
