package org.jgemma.model;

/** A GGUF file is not a usable gemma3 model: the message names the key or tensor and the expected and actual values. */
public final class ModelFormatException extends org.jgemma.api.JGemmaException {
    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
