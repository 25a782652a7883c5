package org.jgemma.api;

/**
 * A prompt does not fit the context: under {@link ContextPolicy#FAIL}, or when nothing can be dropped (a raw
 * {@link Session}'s prompt, or a chat whose system prompt and last message alone exceed it). The session is unchanged
 * and stays usable.
 */
public final class ContextOverflowException extends JGemmaException {
    private final int needed, contextSize;

    public ContextOverflowException(String message, int needed, int contextSize) {
        super(message);
        this.needed = needed;
        this.contextSize = contextSize;
    }

    /** Tokens the request needed (prompt plus the room reserved for the reply). */
    public int needed() { return needed; }

    /** Tokens one session holds. */
    public int contextSize() { return contextSize; }
}
