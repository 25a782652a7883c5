package org.jgemma.api;

/** The model was closed: before the call, or while the request waited for or ran its step (it ended there). */
public final class ModelClosedException extends JGemmaException {
    public ModelClosedException(String message) {
        super(message);
    }
}
