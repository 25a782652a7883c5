package org.jgemma.sampling;

/**
 * Sampling parameters, with llama.cpp's meanings and defaults (common/common.h {@code common_params_sampling}).
 *
 * @param temperature      ≤ 0: greedy (argmax of the penalised logits); default 0.8
 * @param topK             ≤ 0: off; default 40
 * @param topP             ≥ 1: off; default 0.95
 * @param minP             ≤ 0: off; default 0.05
 * @param minKeep          the least number of candidates top-p and min-p leave; default 0
 * @param penaltyLastN     window of previous tokens the penalties look at (0: off); default 64
 * @param repeatPenalty    1: off; default 1
 * @param frequencyPenalty 0: off; default 0
 * @param presencePenalty  0: off; default 0
 * @param seed             the RNG seed (low 32 bits, as llama.cpp's uint32 seed); {@link #RANDOM_SEED} draws one
 */
public record SamplerConfig(float temperature, int topK, float topP, float minP, int minKeep, int penaltyLastN,
                            float repeatPenalty, float frequencyPenalty, float presencePenalty, long seed) {

    /** llama.cpp's LLAMA_DEFAULT_SEED: pick a seed at random. */
    public static final long RANDOM_SEED = 0xFFFFFFFFL;

    public SamplerConfig {
        if (Float.isNaN(temperature) || Float.isNaN(topP) || Float.isNaN(minP)) {
            throw new IllegalArgumentException("temperature, top-p and min-p must be numbers");
        }
        if (topP < 0f) throw new IllegalArgumentException("top-p must be in [0, 1], got " + topP);
        if (minKeep < 0) throw new IllegalArgumentException("min-keep must be ≥ 0, got " + minKeep);
        if (penaltyLastN < 0) throw new IllegalArgumentException("penalty window must be ≥ 0, got " + penaltyLastN);
        if (!(repeatPenalty > 0f)) throw new IllegalArgumentException("repeat penalty must be > 0, got " + repeatPenalty);
    }

    /** llama.cpp's defaults. */
    public static SamplerConfig defaults() {
        return new SamplerConfig(0.8f, 40, 0.95f, 0.05f, 0, 64, 1f, 0f, 0f, RANDOM_SEED);
    }

    /** Greedy decoding, no penalties. */
    public static SamplerConfig greedy() {
        return defaults().withTemperature(0f);
    }

    public boolean isGreedy() { return temperature <= 0f; }

    public boolean penaltiesEnabled() {
        return penaltyLastN != 0 && (repeatPenalty != 1f || frequencyPenalty != 0f || presencePenalty != 0f);
    }

    public SamplerConfig withTemperature(float t) {
        return new SamplerConfig(t, topK, topP, minP, minKeep, penaltyLastN, repeatPenalty, frequencyPenalty, presencePenalty, seed);
    }

    public SamplerConfig withTopK(int k) {
        return new SamplerConfig(temperature, k, topP, minP, minKeep, penaltyLastN, repeatPenalty, frequencyPenalty, presencePenalty, seed);
    }

    public SamplerConfig withTopP(float p) {
        return new SamplerConfig(temperature, topK, p, minP, minKeep, penaltyLastN, repeatPenalty, frequencyPenalty, presencePenalty, seed);
    }

    public SamplerConfig withMinP(float p) {
        return new SamplerConfig(temperature, topK, topP, p, minKeep, penaltyLastN, repeatPenalty, frequencyPenalty, presencePenalty, seed);
    }

    public SamplerConfig withMinKeep(int n) {
        return new SamplerConfig(temperature, topK, topP, minP, n, penaltyLastN, repeatPenalty, frequencyPenalty, presencePenalty, seed);
    }

    public SamplerConfig withPenalties(int lastN, float repeat, float frequency, float presence) {
        return new SamplerConfig(temperature, topK, topP, minP, minKeep, lastN, repeat, frequency, presence, seed);
    }

    public SamplerConfig withSeed(long s) {
        return new SamplerConfig(temperature, topK, topP, minP, minKeep, penaltyLastN, repeatPenalty, frequencyPenalty, presencePenalty, s);
    }
}
