package org.jgemma.tokenizer;

import java.util.Arrays;

/**
 * Token text (UTF-8 bytes) to id, built once: all token bytes live in one pool and an open-addressing table of ids
 * is probed with a hash of a byte range, so lookups of a slice of the text being tokenized allocate nothing.
 */
final class TokenIndex {
    private final byte[] pool;      // [sum of token byte lengths], token i at [offsets[i], offsets[i + 1])
    private final int[] offsets;    // [n + 1]
    private final int[] table;      // [power of two >= 2n], id + 1, 0 = empty
    private final int mask;

    /**
     * @param pool token bytes back to back
     * @param offsets n + 1 offsets into pool
     * @throws IllegalArgumentException on two tokens with the same text (llama.cpp asserts the map size too)
     */
    TokenIndex(byte[] pool, int[] offsets) {
        this.pool = pool;
        this.offsets = offsets;
        int n = offsets.length - 1;
        int cap = Integer.highestOneBit(Math.max(4, n * 2 - 1)) << 1;
        this.table = new int[cap];
        this.mask = cap - 1;
        for (int id = 0; id < n; id++) {
            int s = offsets[id], len = offsets[id + 1] - s;
            int slot = hash(pool, s, len) & mask;
            while (true) {
                int e = table[slot];
                if (e == 0) {
                    table[slot] = id + 1;
                    break;
                }
                if (equalsToken(e - 1, pool, s, len)) {
                    throw new IllegalArgumentException("tokenizer.ggml.tokens: token " + id + " has the same text as token "
                            + (e - 1) + ": '" + new String(pool, s, len, java.nio.charset.StandardCharsets.UTF_8) + "'");
                }
                slot = (slot + 1) & mask;
            }
        }
    }

    /** The id whose text is {@code b[off, off + len)}, or -1. */
    int find(byte[] b, int off, int len) {
        int slot = hash(b, off, len) & mask;
        while (true) {
            int e = table[slot];
            if (e == 0) return -1;
            if (equalsToken(e - 1, b, off, len)) return e - 1;
            slot = (slot + 1) & mask;
        }
    }

    int size() {
        return offsets.length - 1;
    }

    int tokenLength(int id) {
        return offsets[id + 1] - offsets[id];
    }

    int tokenOffset(int id) {
        return offsets[id];
    }

    byte[] pool() {
        return pool;
    }

    byte[] tokenBytes(int id) {
        return Arrays.copyOfRange(pool, offsets[id], offsets[id + 1]);
    }

    private boolean equalsToken(int id, byte[] b, int off, int len) {
        int s = offsets[id];
        return offsets[id + 1] - s == len && Arrays.equals(pool, s, s + len, b, off, off + len);
    }

    private static int hash(byte[] b, int off, int len) {
        int h = 0x9E3779B9 ^ len;
        for (int i = off, end = off + len; i < end; i++) h = (h ^ b[i]) * 0x01000193;
        return h ^ (h >>> 15) ^ (h >>> 7);
    }
}
