package org.jgemma.api;

import java.util.List;
import org.jgemma.sampling.SamplerConfig;

/**
 * How to generate: sampling, limits and stop conditions. Immutable; start from {@link #defaults()} and change
 * what you need with the {@code with...} methods.
 *
 * @param sampling       sampler parameters (llama.cpp's meanings; {@link SamplerConfig#greedy()} for argmax decoding)
 * @param maxTokens      most tokens to generate; ≤ 0 means until the context is full
 * @param stop           strings that end the output when they appear in it (they are not returned)
 * @param stopOnEog      stop at end-of-generation tokens (EOS, {@code <end_of_turn>}); true by default
 * @param contextPolicy  what a chat does when the conversation outgrows the context (default
 *                       {@link ContextPolicy#DROP_OLDEST_TURNS})
 * @param promptProgress told after each evaluated chunk of the prompt, on the generating thread, or null
 */
public record GenerationOptions(SamplerConfig sampling, int maxTokens, List<String> stop, boolean stopOnEog,
                                ContextPolicy contextPolicy, PromptProgress promptProgress) {

    /** Prompt evaluation progress: {@code done} of {@code total} prompt tokens are in the KV cache. */
    @FunctionalInterface
    public interface PromptProgress {
        void update(int done, int total);
    }

    public GenerationOptions {
        if (sampling == null) throw new IllegalArgumentException("sampling must not be null");
        if (contextPolicy == null) contextPolicy = ContextPolicy.DROP_OLDEST_TURNS;
        stop = List.copyOf(stop);
        for (String s : stop) if (s.isEmpty()) throw new IllegalArgumentException("empty stop string");
    }

    public GenerationOptions(SamplerConfig sampling, int maxTokens, List<String> stop, boolean stopOnEog) {
        this(sampling, maxTokens, stop, stopOnEog, ContextPolicy.DROP_OLDEST_TURNS, null);
    }

    /** llama.cpp's sampling defaults, 256 tokens at most, stop on EOG. */
    public static GenerationOptions defaults() {
        return new GenerationOptions(SamplerConfig.defaults(), 256, List.of(), true);
    }

    /** Greedy decoding of at most {@code maxTokens} tokens. */
    public static GenerationOptions greedy(int maxTokens) {
        return defaults().withSampling(SamplerConfig.greedy()).withMaxTokens(maxTokens);
    }

    public GenerationOptions withSampling(SamplerConfig s) { return new GenerationOptions(s, maxTokens, stop, stopOnEog, contextPolicy, promptProgress); }
    public GenerationOptions withMaxTokens(int n) { return new GenerationOptions(sampling, n, stop, stopOnEog, contextPolicy, promptProgress); }
    public GenerationOptions withStop(String... strings) { return new GenerationOptions(sampling, maxTokens, List.of(strings), stopOnEog, contextPolicy, promptProgress); }
    public GenerationOptions withStopOnEog(boolean b) { return new GenerationOptions(sampling, maxTokens, stop, b, contextPolicy, promptProgress); }
    public GenerationOptions withContextPolicy(ContextPolicy p) { return new GenerationOptions(sampling, maxTokens, stop, stopOnEog, p, promptProgress); }
    public GenerationOptions withPromptProgress(PromptProgress p) { return new GenerationOptions(sampling, maxTokens, stop, stopOnEog, contextPolicy, p); }
    public GenerationOptions withTemperature(float t) { return withSampling(sampling.withTemperature(t)); }
    public GenerationOptions withSeed(long seed) { return withSampling(sampling.withSeed(seed)); }

    /** Tokens a chat keeps free for the reply in a context of {@code contextSize} (see {@link ContextPolicy}). */
    int replyReserve(int contextSize) {
        return maxTokens > 0 ? Math.min(maxTokens, contextSize / 2) : contextSize / 4;
    }
    /** Keep the {@code k} most likely tokens; ≤ 0: off. */
    public GenerationOptions withTopK(int k) { return withSampling(sampling.withTopK(k)); }
    /** Nucleus sampling: the smallest set of tokens whose probabilities reach {@code p}; ≥ 1: off. */
    public GenerationOptions withTopP(float p) { return withSampling(sampling.withTopP(p)); }
    /** Drop tokens less likely than {@code p} times the most likely one; ≤ 0: off. */
    public GenerationOptions withMinP(float p) { return withSampling(sampling.withMinP(p)); }
    /** Divide the logits of tokens among the last {@link #withRepeatLastN repeat-last-n} by {@code penalty}; 1: off. */
    public GenerationOptions withRepeatPenalty(float penalty) {
        return withSampling(sampling.withPenalties(sampling.penaltyLastN(), penalty, sampling.frequencyPenalty(), sampling.presencePenalty()));
    }
    /** How many previous tokens the penalties look at; 0: off. */
    public GenerationOptions withRepeatLastN(int n) {
        return withSampling(sampling.withPenalties(n, sampling.repeatPenalty(), sampling.frequencyPenalty(), sampling.presencePenalty()));
    }
    /** Subtract {@code penalty} times a token's count in the window from its logit; 0: off. */
    public GenerationOptions withFrequencyPenalty(float penalty) {
        return withSampling(sampling.withPenalties(sampling.penaltyLastN(), sampling.repeatPenalty(), penalty, sampling.presencePenalty()));
    }
    /** Subtract {@code penalty} from the logit of every token in the window; 0: off. */
    public GenerationOptions withPresencePenalty(float penalty) {
        return withSampling(sampling.withPenalties(sampling.penaltyLastN(), sampling.repeatPenalty(), sampling.frequencyPenalty(), penalty));
    }
    public GenerationOptions withStop(List<String> strings) { return new GenerationOptions(sampling, maxTokens, List.copyOf(strings), stopOnEog, contextPolicy, promptProgress); }
}
