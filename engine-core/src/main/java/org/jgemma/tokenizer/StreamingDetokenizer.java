package org.jgemma.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns generated ids into text one at a time. A character can span several byte-fallback tokens (an emoji is four
 * {@code <0xHH>} tokens), so bytes of an unfinished UTF-8 sequence are held back until it completes; bytes that can
 * never complete (a stray continuation byte, a lead byte followed by a non-continuation) are emitted as U+FFFD.
 * Not thread-safe: one per generation.
 */
public final class StreamingDetokenizer {
    private final Tokenizer tokenizer;
    private final boolean renderSpecial;
    private final ByteArrayOutputStream piece = new ByteArrayOutputStream(32);
    private byte[] pending = new byte[64];
    private int nPending;

    StreamingDetokenizer(Tokenizer tokenizer, boolean renderSpecial) {
        this.tokenizer = tokenizer;
        this.renderSpecial = renderSpecial;
    }

    /** The text that {@code id} completes (possibly empty). */
    public String accept(int id) {
        piece.reset();
        tokenizer.appendPiece(id, renderSpecial, false, piece);
        byte[] b = piece.toByteArray();
        if (nPending + b.length > pending.length) pending = java.util.Arrays.copyOf(pending, Math.max(pending.length * 2, nPending + b.length));
        System.arraycopy(b, 0, pending, nPending, b.length);
        nPending += b.length;
        int complete = completePrefix(pending, nPending);
        if (complete == 0) return "";
        String s = new String(pending, 0, complete, StandardCharsets.UTF_8);
        System.arraycopy(pending, complete, pending, 0, nPending - complete);
        nPending -= complete;
        return s;
    }

    /** Whatever is held back (an unfinished sequence, as U+FFFD); the detokenizer is empty afterwards. */
    public String flush() {
        String s = new String(pending, 0, nPending, StandardCharsets.UTF_8);
        nPending = 0;
        return s;
    }

    /** Bytes held back waiting for the rest of a character. */
    public int pendingBytes() {
        return nPending;
    }

    /**
     * The length of the longest prefix of {@code b[0, n)} that does not end inside a UTF-8 sequence that may still
     * complete: the last lead byte within the final 3 bytes decides.
     */
    static int completePrefix(byte[] b, int n) {
        for (int i = n - 1; i >= Math.max(0, n - 3); i--) {
            int c = b[i] & 0xFF;
            if ((c & 0xC0) == 0x80) continue; // continuation byte: look further back
            int need = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 1;
            return i + need > n ? i : n;
        }
        return n;
    }
}
