package org.jgemma.api;

/**
 * What a chat does when the conversation outgrows the context ({@link GenerationOptions#contextPolicy()}).
 * The room kept for the reply is {@link GenerationOptions#maxTokens()} (at most half the context; a quarter of the
 * context when maxTokens is unlimited).
 */
public enum ContextPolicy {
    /**
     * The default: keep the system prompt and drop the oldest whole turns (a user message and the reply to it) until
     * the conversation plus the room for the reply fits, then evaluate what changed (the KV cache of the system
     * prompt is reused; what follows the dropped turns is evaluated again, as its positions moved). A reply that fills
     * the context while it is generated drops turns the same way and goes on. When only the system prompt and the
     * last message are left and they still do not fit, {@link ContextOverflowException}.
     */
    DROP_OLDEST_TURNS,
    /** Throw {@link ContextOverflowException} when the prompt does not fit; a reply that fills the context ends with CONTEXT_FULL. */
    FAIL
}
