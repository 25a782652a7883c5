package org.jgemma.chat;

/** A chat template could not be rendered: a {@code raise_exception(...)} in the template, or a template error. */
public final class ChatTemplateException extends RuntimeException {
    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
