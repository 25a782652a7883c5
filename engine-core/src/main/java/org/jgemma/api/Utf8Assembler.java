package org.jgemma.api;

import java.nio.charset.StandardCharsets;

/**
 * Turns a stream of token bytes into valid UTF-8 text: a character split across tokens (Gemma's byte-fallback
 * tokens {@code <0xE2>}...) is held back until complete. An invalid sequence becomes U+FFFD, as a lenient decoder
 * would. Reuses one growing byte array: no allocation per token beyond the returned string.
 */
final class Utf8Assembler {
    private byte[] pending = new byte[16];
    private int n;

    /** Appends bytes and returns the text that is now complete (possibly empty). */
    String push(byte[] bytes) {
        if (n + bytes.length > pending.length) pending = java.util.Arrays.copyOf(pending, Math.max(pending.length * 2, n + bytes.length));
        System.arraycopy(bytes, 0, pending, n, bytes.length);
        n += bytes.length;
        int complete = completePrefix();
        if (complete == 0) return "";
        String s = new String(pending, 0, complete, StandardCharsets.UTF_8);
        System.arraycopy(pending, complete, pending, 0, n - complete);
        n -= complete;
        return s;
    }

    /** What is left (an unfinished character), decoded leniently; empties the buffer. */
    String flush() {
        String s = new String(pending, 0, n, StandardCharsets.UTF_8);
        n = 0;
        return s;
    }

    /** Bytes held back. */
    int pendingBytes() { return n; }

    /** Length of the longest prefix that does not end inside a (possibly valid) multi-byte character. */
    private int completePrefix() {
        // look at most 3 bytes back for the lead byte of an unfinished sequence
        for (int back = 1; back <= Math.min(3, n); back++) {
            int b = pending[n - back] & 0xff;
            if ((b & 0xC0) == 0x80) continue; // continuation byte: keep looking for the lead
            int need = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 1;
            if (b >= 0xF5) need = 1; // never valid: let the decoder replace it
            return need > back ? n - back : n;
        }
        return n;
    }
}
