package org.jgemma.server;

import org.jgemma.api.StopReason;

/**
 * How a generation ended, with Ollama's counts and durations (nanoseconds).
 *
 * @param text          the whole output
 * @param promptTokens  tokens of the prompt evaluated
 * @param evalTokens    tokens generated
 * @param promptNanos   time evaluating the prompt
 * @param evalNanos     time generating
 * @param stopReason    why it ended
 */
record Outcome(String text, int promptTokens, int evalTokens, long promptNanos, long evalNanos, StopReason stopReason) {

    /** Ollama's {@code done_reason} / OpenAI's {@code finish_reason}: {@code stop} or {@code length}. */
    String doneReason() {
        return switch (stopReason) {
            case END_OF_GENERATION, STOP_STRING -> "stop";
            case MAX_TOKENS, CONTEXT_FULL -> "length";
            case CANCELLED -> "cancelled";
        };
    }
}
