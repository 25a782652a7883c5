package org.jgemma.gguf;

import java.io.IOException;

/** A GGUF file that is malformed or that this engine cannot read; says what is wrong and at which byte offset. */
public final class GgufFormatException extends IOException {
    private final long offset;

    public GgufFormatException(String message, long offset) {
        super(message + " (at file offset " + offset + ")");
        this.offset = offset;
    }

    /** The byte offset in the file where the problem was found, or -1 when it concerns the whole file. */
    public long offset() {
        return offset;
    }
}
