package org.jgemma.api;

/**
 * Receives a generation as it happens, on the generating thread. {@code text} is the next piece of valid UTF-8
 * output: it may be empty while a character spans several tokens or while the text might still turn into a stop
 * string; concatenated, the pieces are the whole output.
 */
@FunctionalInterface
public interface TokenListener {
    void onToken(int tokenId, String text);

    /** Ignores everything. */
    TokenListener NONE = (id, text) -> {};

    /** Only the text pieces (empty ones skipped). */
    static TokenListener text(java.util.function.Consumer<String> sink) {
        return (id, text) -> {
            if (!text.isEmpty()) sink.accept(text);
        };
    }
}
