package org.jgemma.backend;

/** A backend was asked for but cannot run here; the message says why and what to do. */
public final class BackendUnavailableException extends org.jgemma.api.JGemmaException {
    public BackendUnavailableException(String message) {
        super(message);
    }

    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
