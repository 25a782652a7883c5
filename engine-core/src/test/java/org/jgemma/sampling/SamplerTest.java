package org.jgemma.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The whole chain against llama.cpp itself: src/test/cpp/sampler_chain_ref.cpp builds llama.cpp's chain
 * (penalties, top-k, top-p, min-p, temp, dist(seed)) over synthetic logits and prints the tokens it draws; the
 * expected sequences below are its output (llama.cpp d32676d, libstdc++'s mt19937 and generate_canonical).
 */
class SamplerTest {

    /** The synthetic logits of step s: a permutation of {@code m / (V/10) - 5}. */
    private static float[] logits(int vocab, int step) {
        float[] l = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            long m = ((long) i * 7919 + (long) step * 104729) % vocab;
            l[i] = (float) (m / (vocab / 10.0) - 5.0);
        }
        return l;
    }

    private static int[] run(int vocab, SamplerConfig cfg, int steps) {
        Sampler s = new Sampler(vocab, cfg);
        int[] out = new int[steps];
        for (int i = 0; i < steps; i++) {
            out[i] = s.sample(logits(vocab, i));
            s.accept(out[i]);
        }
        return out;
    }

    private static SamplerConfig cfg(int topK, float topP, float minP, float temp, int lastN, float rep, float freq, float pres, long seed) {
        return new SamplerConfig(temp, topK, topP, minP, 0, lastN, rep, freq, pres, seed);
    }

    @Test
    void mersenneTwisterMatchesStdMt19937() {
        Mt19937 g = new Mt19937(5489);
        for (int i = 0; i < 9999; i++) g.nextUnsigned();
        assertEquals(4123659995L, g.nextUnsigned()); // the C++ standard's check value
        Mt19937 h = new Mt19937(42);
        double[] expected = {0.79654298428784598, 0.18343478789336848, 0.77969099761266125, 0.59685016158005655};
        for (double e : expected) assertEquals(e, h.nextCanonicalDouble(), 0.0);
    }

    @Test
    void defaultChainMatchesLlamaCpp() {
        assertArrayEquals(new int[] {457, 639, 80, 15, 308, 650, 301, 693, 677, 365, 411, 556, 639, 426, 410, 777, 959, 474,
                372, 739, 847, 782, 396, 491}, run(1000, cfg(40, 0.95f, 0.05f, 0.8f, 64, 1f, 0f, 0f, 1234), 24));
    }

    @Test
    void penaltiesMatchLlamaCpp() {
        assertArrayEquals(new int[] {568, 540, 895, 163, 246, 934, 17, 557, 393, 859, 362, 630, 281, 142, 830, 160, 996, 388,
                51, 838, 69, 782, 124, 516}, run(1000, cfg(40, 0.95f, 0.05f, 0.8f, 64, 1.3f, 0.5f, 0.4f, 7), 24));
    }

    @Test
    void topPOverTheWholeVocabularyMatchesLlamaCpp() {
        assertArrayEquals(new int[] {446, 369, 427, 868, 61, 665, 265, 101, 358, 415, 967, 804, 862, 204, 226, 185, 910, 895,
                361, 616, 119, 598, 681, 405}, run(1000, cfg(0, 0.9f, 0f, 1.5f, 0, 1f, 0f, 0f, 99), 24));
    }

    @Test
    void minPOnlyMatchesLlamaCpp() {
        assertArrayEquals(new int[] {54, 839, 365, 979, 98, 394, 353, 484, 998, 811, 648, 816, 246, 760, 103, 198, 120, 872,
                511, 484, 736, 17, 88, 825}, run(1000, cfg(0, 1f, 0.02f, 2f, 0, 1f, 0f, 0f, 5), 24));
    }

    @Test
    void gemmaSizedVocabularyMatchesLlamaCpp() {
        assertArrayEquals(new int[] {11553, 128725, 27714, 70768, 7296, 58692, 232338, 62340, 158657, 61817, 125726, 20544,
                96006, 229862, 161259, 57037}, run(262144, cfg(64, 0.95f, 0f, 1f, 64, 1f, 0f, 0f, 42), 16));
        assertArrayEquals(new int[] {31812, 191255, 240203, 87848, 125672, 177102, 18028, 201439},
                run(262144, cfg(0, 0.5f, 0f, 3f, 8, 1.2f, 0f, 0f, 3), 8));
    }

    @Test
    void sameSeedSameTokensAndResetReplays() {
        SamplerConfig c = SamplerConfig.defaults().withSeed(77);
        assertArrayEquals(run(1000, c, 30), run(1000, c, 30));
        Sampler s = new Sampler(1000, c);
        int[] first = new int[10], again = new int[10];
        for (int i = 0; i < 10; i++) s.accept(first[i] = s.sample(logits(1000, i)));
        s.reset();
        for (int i = 0; i < 10; i++) s.accept(again[i] = s.sample(logits(1000, i)));
        assertArrayEquals(first, again);
    }

    @Test
    void greedyIsTheArgmaxOfThePenalisedLogits() {
        float[] l = {1f, 3f, 3f, 2f};
        assertEquals(1, new Sampler(4, SamplerConfig.greedy()).sample(l)); // lowest id on ties
        Sampler s = new Sampler(4, SamplerConfig.greedy().withPenalties(4, 2f, 0f, 0f));
        s.accept(1);
        s.accept(2);
        assertEquals(3, s.sample(l)); // 3/2 = 1.5 < 2
    }

    @Test
    void penaltyWindowForgetsTheOldest() {
        PenaltyWindow w = new PenaltyWindow(10, 3);
        for (int t : new int[] {1, 2, 1, 3, 4}) w.accept(t);
        // the window holds the last three: [1, 3, 4]
        assertEquals(1, w.count(1));
        assertEquals(0, w.count(2));
        assertEquals(1, w.count(3));
        assertEquals(1, w.count(4));
        assertEquals(3, w.distinct());
        w.accept(4);
        assertEquals(0, w.count(1));
        assertEquals(2, w.count(4));
        assertEquals(2, w.distinct());
    }
}
