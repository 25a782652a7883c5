package org.jgemma.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The cases of llama.cpp's tests/test-sampling.cpp, ported with their expected values: each filter is applied to
 * logits {@code ln(p)}, then {@code dist} (seed 0) normalises, and the probabilities are compared in candidate order.
 */
class CandidatesTest {
    private static final float[] P4 = {0.1f, 0.2f, 0.3f, 0.4f};

    /** sampler_tester(probs, expected) + apply(filter) + apply(dist(0)) + check(). */
    private static void check(float[] probs, float[] expected, Consumer<Candidates> filter) {
        Candidates c = load(probs);
        filter.accept(c);
        c.dist(new Mt19937(0));
        assertEquals(expected.length, c.size(), "candidates left");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], c.prob(i), 1e-5, "probability of candidate " + i);
        }
    }

    private static Candidates load(float[] probs) {
        float[] logits = new float[probs.length];
        for (int i = 0; i < probs.length; i++) logits[i] = (float) Math.log(probs[i]);
        Candidates c = new Candidates(probs.length);
        c.load(logits, probs, probs.length);
        return c;
    }

    @Test
    void temperature() {
        check(P4, new float[] {0.1f, 0.2f, 0.3f, 0.4f}, c -> c.temperature(1f));
        check(P4, new float[] {0f, 0f, 0f, 1f}, c -> c.temperature(0f));
    }

    @Test
    void topK() {
        check(P4, new float[] {1f}, c -> c.topK(1));
        check(P4, new float[] {0.44444f, 0.33333f, 0.22222f}, c -> c.topK(3));
        check(P4, new float[] {0.4f, 0.3f, 0.2f, 0.1f}, c -> c.topK(4));
        check(P4, new float[] {0.1f, 0.2f, 0.3f, 0.4f}, c -> c.topK(0));
    }

    @Test
    void topP() {
        check(P4, new float[] {1f}, c -> c.topP(0f, 0));
        check(P4, new float[] {0.571429f, 0.428571f}, c -> c.topP(0.7f, 0));
        check(P4, new float[] {0.44444f, 0.33333f, 0.22222f}, c -> c.topP(0.8f, 0));
        check(P4, new float[] {0.1f, 0.2f, 0.3f, 0.4f}, c -> c.topP(1f, 0));
    }

    @Test
    void minP() {
        check(P4, new float[] {0.1f, 0.2f, 0.3f, 0.4f}, c -> c.minP(0f, 0));
        check(P4, new float[] {0.1f, 0.2f, 0.3f, 0.4f}, c -> c.minP(0.24f, 0));
        check(P4, new float[] {0.2f / 0.9f, 0.3f / 0.9f, 0.4f / 0.9f}, c -> c.minP(0.26f, 0));
        check(P4, new float[] {0.2f / 0.9f, 0.3f / 0.9f, 0.4f / 0.9f}, c -> c.minP(0.49f, 0));
        check(P4, new float[] {0.3f / 0.7f, 0.4f / 0.7f}, c -> c.minP(0.51f, 0));
        check(P4, new float[] {0.3f / 0.7f, 0.4f / 0.7f}, c -> c.minP(0.74f, 0));
        check(P4, new float[] {1f}, c -> c.minP(0.76f, 0));
        check(P4, new float[] {1f}, c -> c.minP(1.00f, 0));
        check(P4, new float[] {1f}, c -> c.minP(1.05f, 0));
    }

    private static void penalties(int[] last, float[] expected, float repeat, float freq, float presence) {
        float[] p5 = {0.2f, 0.2f, 0.2f, 0.2f, 0.2f};
        PenaltyWindow w = new PenaltyWindow(5, last.length);
        for (int t : last) w.accept(t);
        check(p5, expected, c -> c.penalties(w, repeat, freq, presence));
    }

    @Test
    void penalties() {
        penalties(new int[] {0}, new float[] {0, 0.25f, 0.25f, 0.25f, 0.25f}, 50f, 0f, 0f);
        penalties(new int[] {0, 1, 2}, new float[] {0, 0, 0, 0.5f, 0.5f}, 50f, 0f, 0f);
        penalties(new int[] {0, 1, 2, 0, 0}, new float[] {0, 0, 0, 0.5f, 0.5f}, 50f, 0f, 0f);
        penalties(new int[] {0}, new float[] {0.000011f, 0.249997f, 0.249997f, 0.249997f, 0.249997f}, 1f, 5f, 5f);
        penalties(new int[] {0, 1, 2}, new float[] {0.000023f, 0.000023f, 0.000023f, 0.499966f, 0.499966f}, 1f, 5f, 5f);
        penalties(new int[] {0, 1, 2, 0, 0}, new float[] {0.000000f, 0.000023f, 0.000023f, 0.499977f, 0.499977f}, 1f, 5f, 5f);
    }

    /** test_sampler_queue: logits ln(id) over n_vocab tokens, filters in sequence, sizes and end ids as derived there. */
    private static void queue(int nVocab, String seq, int topK, float topP, float minP) {
        float[] logits = new float[nVocab];
        for (int i = 0; i < nVocab; i++) logits[i] = (float) Math.log(i);
        Candidates c = new Candidates(nVocab);
        c.load(logits, nVocab);
        int minTokenId = 0;
        int maxTokenId = nVocab - 1;
        Mt19937 rng = new Mt19937(0);
        for (char s : seq.toCharArray()) {
            switch (s) {
                case 'k' -> c.topK(topK);
                case 'p' -> c.topP(topP, 1);
                case 'm' -> c.minP(minP, 1);
                default -> throw new IllegalArgumentException(seq);
            }
            c.dist(rng);
            int size = c.size();
            String where = seq + " at '" + s + "' (top_k " + topK + ", top_p " + topP + ", min_p " + minP + ")";
            if (s == 'k') {
                int expectedSize = Math.min(size, topK);
                minTokenId = Math.max(minTokenId, nVocab - topK);
                assertEquals(expectedSize, size, where);
                assertEquals(maxTokenId, c.id(0), where);
                assertEquals(minTokenId, c.id(expectedSize - 1), where);
            } else if (s == 'p') {
                int divisor = nVocab * (nVocab - 1) / 2 - minTokenId * (minTokenId - 1) / 2;
                int target = (int) Math.ceil(topP * divisor);
                minTokenId = nVocab;
                int expectedSize = 0, cum = 0;
                do {
                    minTokenId--;
                    expectedSize++;
                    cum += minTokenId;
                } while (cum < target);
                if (minTokenId == 1) {
                    minTokenId--;
                    expectedSize++;
                }
                assertEquals(expectedSize, size, where);
                assertTrue(!c.sorted() || c.id(0) == maxTokenId, where);
                assertTrue(!c.sorted() || c.id(expectedSize - 1) == minTokenId, where);
            } else {
                int expectedSize = (int) Math.ceil((1.0f - minP) * nVocab);
                expectedSize = Math.max(expectedSize, 1);
                expectedSize = Math.min(expectedSize, size);
                minTokenId = (int) Math.floor(minP * nVocab);
                minTokenId = Math.max(minTokenId, 1);
                minTokenId = Math.max(minTokenId, nVocab - size);
                minTokenId = Math.min(minTokenId, nVocab - 1);
                assertEquals(expectedSize, size, where);
                assertTrue(!c.sorted() || c.id(0) == maxTokenId, where);
                assertTrue(!c.sorted() || c.id(expectedSize - 1) == minTokenId, where);
            }
        }
    }

    @Test
    void samplerQueue() {
        queue(10000, "k", 10000, 1.0f, 1.0f);
        queue(10000, "k", 1, 1.0f, 1.0f);
        queue(10000, "p", 10000, 1.0f, 1.0f);
        queue(10000, "p", 10000, 0.0f, 1.0f);
        queue(10000, "m", 10000, 1.0f, 1.0f);
        queue(10000, "m", 10000, 1.0f, 1e-12f);
        queue(10000, "k", 100, 1.0000f, 1.0f);
        queue(10000, "p", 10000, 0.0003f, 1.0f);
        queue(10000, "p", 10000, 0.8000f, 1.0f);
        queue(10000, "m", 10000, 1.0000f, 9997.9f / 9999.0f);
        queue(10000, "m", 10000, 1.0000f, 0.1f);
        for (String s : new String[] {"kp", "km", "pk", "pm", "mk", "mp", "kpm", "kmp", "pkm", "pmk", "mkp", "mpk"}) {
            queue(10000, s, 100, 0.8f, 0.1f);
        }
        queue(10000, "mp", 100, 0.8f, 9997.9f / 9999.0f);
    }

    @Test
    void partialSortKeepsEveryCandidate() {
        int n = 262144;
        float[] logits = new float[n];
        java.util.Random r = new java.util.Random(11);
        for (int i = 0; i < n; i++) logits[i] = (float) r.nextGaussian();
        Candidates c = new Candidates(n);
        c.load(logits, n);
        c.partialSort(64);
        boolean[] seen = new boolean[n];
        for (int i = 0; i < n; i++) seen[c.id(i)] = true;
        for (int i = 0; i < n; i++) assertTrue(seen[i], "token " + i + " lost by the partial sort");
        float[] sorted = logits.clone();
        java.util.Arrays.sort(sorted);
        for (int i = 0; i < 64; i++) assertEquals(sorted[n - 1 - i], c.logit(i), "rank " + i);
    }
}
