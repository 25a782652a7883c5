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
