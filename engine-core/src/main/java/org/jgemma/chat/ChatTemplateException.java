package org.jgemma.chat;

/** A chat template could not be rendered: a {@code raise_exception(...)} in the template, or a template error. */
public final class ChatTemplateException extends org.jgemma.api.JGemmaException {
    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
