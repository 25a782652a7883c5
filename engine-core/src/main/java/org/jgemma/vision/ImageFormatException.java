package org.jgemma.vision;

/** An image that cannot be used: not decodable, an unsupported format, or a size out of bounds. The message says which. */
public final class ImageFormatException extends org.jgemma.api.JGemmaException {
    public ImageFormatException(String message) {
        super(message);
    }

    public ImageFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
