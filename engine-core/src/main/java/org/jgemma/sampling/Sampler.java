package org.jgemma.sampling;

import java.security.SecureRandom;

/**
 * llama.cpp's default sampler chain (common/sampling.cpp): penalties → top-k → top-p → min-p → temperature → dist,
 * with a seeded Mersenne Twister, so the same seed and logits give the same tokens. Greedy ({@code temperature ≤ 0})
 * is the argmax of the penalised logits. Every array is allocated in the constructor; {@link #sample} allocates
 * nothing. One sampler belongs to one generation stream: not thread-safe.
 */
public final class Sampler {
    private final int nVocab;
    private final SamplerConfig config;
    private final Candidates candidates;
    private final PenaltyWindow window;
    private final Mt19937 rng;
    private final long seed;

    public Sampler(int nVocab, SamplerConfig config) {
        this.nVocab = nVocab;
        this.config = config;
        this.candidates = new Candidates(nVocab);
        this.window = new PenaltyWindow(nVocab, config.penaltyLastN());
        this.seed = config.seed() == SamplerConfig.RANDOM_SEED ? new SecureRandom().nextInt() & 0xffffffffL : config.seed() & 0xffffffffL;
        this.rng = new Mt19937(seed);
    }

    public SamplerConfig config() { return config; }

    /** The seed in use (drawn at random when the config asked for {@link SamplerConfig#RANDOM_SEED}). */
    public long seed() { return seed; }

    /** The candidates the last {@link #sample} left (for inspection and tests). */
    public Candidates candidates() { return candidates; }

    public PenaltyWindow window() { return window; }

    /** Picks the next token from {@code logits[0 .. nVocab)}; the array is not modified. */
    public int sample(float[] logits) {
        if (logits.length < nVocab) {
            throw new IllegalArgumentException("expected " + nVocab + " logits, got " + logits.length);
        }
        checkFinite(logits, nVocab);
        if (config.isGreedy() && !config.penaltiesEnabled()) return argmax(logits, nVocab);
        candidates.load(logits, nVocab);
        candidates.penalties(window, config.repeatPenalty(), config.frequencyPenalty(), config.presencePenalty());
        if (config.isGreedy()) return candidates.greedy();
        candidates.topK(config.topK());
        candidates.topP(config.topP(), config.minKeep());
        candidates.minP(config.minP(), config.minKeep());
        candidates.temperature(config.temperature());
        return candidates.dist(rng);
    }

    /** Records a token of the context (prompt or generated) for the repetition penalties. */
    public void accept(int token) {
        window.accept(token);
    }

    /** Forgets the penalty window and re-seeds the RNG with the same seed. */
    public void reset() {
        window.clear();
        rng.seed(seed);
    }

    /**
     * Refuses logits that cannot come from a working model: a NaN or +Inf anywhere, or no finite value at all. NaN or
     * Inf weights otherwise give the argmax of garbage (token 0, {@code <pad>}, forever) without a word.
     *
     * @throws org.jgemma.model.ModelFormatException naming the first bad token id and value
     */
    public static void checkFinite(float[] logits, int n) {
        boolean anyFinite = false;
        for (int i = 0; i < n; i++) {
            float x = logits[i];
            if (x != x || x == Float.POSITIVE_INFINITY) throw nonFinite(i, x);
            anyFinite |= x != Float.NEGATIVE_INFINITY;
        }
        if (!anyFinite && n > 0) throw nonFinite(0, logits[0]);
    }

    private static org.jgemma.model.ModelFormatException nonFinite(int id, float x) {
        return new org.jgemma.model.ModelFormatException("the model computed a non-finite logit (" + x + " for token " + id
                + "): its weights hold NaN or infinite values, or a computation overflowed; the output would be garbage");
    }

    /** Index of the largest of {@code x[0 .. n)}, the lowest index on ties. */
    public static int argmax(float[] x, int n) {
        int best = 0;
        float bv = x[0];
        for (int i = 1; i < n; i++) {
            if (x[i] > bv) {
                bv = x[i];
                best = i;
            }
        }
        return best;
    }
}
