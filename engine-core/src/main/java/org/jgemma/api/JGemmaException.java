package org.jgemma.api;

/**
 * The one exception family of the engine: every failure the API reports is an unchecked {@code JGemmaException}
 * subclass, except where Java has a standard type for the case:
 * <ul>
 *   <li>{@link java.io.IOException} from {@link Model#open} when the file cannot be read (its subclass
 *       {@link org.jgemma.gguf.GgufFormatException} when it is not a valid GGUF file);</li>
 *   <li>{@link IllegalArgumentException} / {@link IllegalStateException} / {@link NullPointerException} for a caller's
 *       mistake (a bad option, a token id outside the vocabulary, a session used after close).</li>
 * </ul>
 * Subclasses: {@link org.jgemma.model.ModelFormatException} (a usable GGUF that is not a usable gemma3 model),
 * {@link org.jgemma.backend.BackendUnavailableException} (the backend cannot run here or the model does not fit),
 * {@link org.jgemma.chat.ChatTemplateException} (the chat template failed), {@link ContextOverflowException} (a prompt
 * that does not fit the context under {@link ContextPolicy#FAIL}), {@link ModelClosedException} (the model was
 * closed, before or during the request). Catch {@code JGemmaException} to handle them all.
 */
public class JGemmaException extends RuntimeException {
    public JGemmaException(String message) {
        super(message);
    }

    public JGemmaException(String message, Throwable cause) {
        super(message, cause);
    }
}
