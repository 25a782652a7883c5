package org.jgemma.api;

/**
 * What a generation produced.
 *
 * @param text            the output text (without the stop string, without EOG tokens)
 * @param tokens          the generated token ids (an EOG token that ended it included)
 * @param promptTokens    tokens evaluated for the prompt (only the new ones when a session continues)
 * @param stopReason      why it ended
 * @param promptNanos     time to evaluate the prompt
 * @param generationNanos time spent generating after the prompt
 */
public record GenerationResult(String text, int[] tokens, int promptTokens, StopReason stopReason, long promptNanos,
                               long generationNanos) {

    /** Prompt tokens per second (prompt processing). */
    public double promptTokensPerSecond() {
        return promptNanos == 0 ? 0 : promptTokens * 1e9 / promptNanos;
    }

    /** Generated tokens per second (the first token's sampling included, its evaluation is the prompt's). */
    public double generationTokensPerSecond() {
        return generationNanos == 0 ? 0 : tokens.length * 1e9 / generationNanos;
    }
}
