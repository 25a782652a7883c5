package org.jgemma.gguf;

import java.io.IOException;

/** A GGUF file that is malformed or that this engine cannot read; says what is wrong and at which byte offset. */
public final class GgufFormatException extends IOException {
    private final long offset;

    /**
     * @param message what is wrong; a message re-wrapped from another GgufFormatException keeps one offset suffix
     * @param offset  where, or -1 when it concerns the whole file (then no offset is printed)
     */
    public GgufFormatException(String message, long offset) {
        super(withOffset(message, offset));
        this.offset = offset;
    }

    private static String withOffset(String message, long offset) {
        String m = String.valueOf(message).replaceAll(" \\(at file offset -?\\d+\\)", "");
        return offset < 0 ? m : m + " (at file offset " + offset + ")";
    }

    /** The byte offset in the file where the problem was found, or -1 when it concerns the whole file. */
    public long offset() {
        return offset;
    }
}
