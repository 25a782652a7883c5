package org.jgemma.model;

import org.jgemma.text.ControlChars;

/**
 * A GGUF file is not a usable gemma3 model: the message names the key or tensor and the expected and actual values.
 * The message quotes the file's own strings with their control characters escaped, so it prints as one safe line.
 */
public final class ModelFormatException extends org.jgemma.api.JGemmaException {
    public ModelFormatException(String message) {
        super(ControlChars.escape(message));
    }

    public ModelFormatException(String message, Throwable cause) {
        super(ControlChars.escape(message), cause);
    }
}
