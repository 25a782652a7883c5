package org.jgemma.sampling;

/**
 * The last {@code lastN} accepted tokens and how often each occurs among them (llama.cpp's penalties sampler:
 * a ring buffer plus a count map). Arrays are sized once: a ring of lastN, counts by token id, and the list of
 * distinct tokens in the window, so accepting a token allocates nothing. Not thread-safe.
 */
public final class PenaltyWindow {
    private final int lastN;
    private final int[] ring;       // [lastN] the window, oldest at head
    private final int[] counts;     // [nVocab] occurrences in the window by token id
    private final int[] distinct;   // [lastN] tokens with count > 0
    private final int[] where;      // [nVocab] index in distinct, valid when counts > 0
    private int head, filled, nDistinct;

    /** {@code lastN} ≤ 0 disables the window (nothing is remembered). */
    public PenaltyWindow(int nVocab, int lastN) {
        this.lastN = Math.max(0, lastN);
        this.ring = new int[this.lastN];
        this.counts = new int[this.lastN == 0 ? 0 : nVocab];
        this.distinct = new int[this.lastN];
        this.where = new int[this.lastN == 0 ? 0 : nVocab];
    }

    public int lastN() { return lastN; }

    /** Number of tokens in the window (≤ lastN). */
    public int filled() { return filled; }

    /** Number of distinct tokens in the window. */
    public int distinct() { return nDistinct; }

    /** The j-th distinct token (0 ≤ j < distinct()), in no particular order. */
    public int distinctToken(int j) { return distinct[j]; }

    /** Occurrences of {@code token} in the window. */
    public int count(int token) {
        return lastN == 0 || token < 0 || token >= counts.length ? 0 : counts[token];
    }

    /** Adds a token, dropping the oldest when the window is full. Ids outside the vocabulary are ignored. */
    public void accept(int token) {
        if (lastN == 0 || token < 0 || token >= counts.length) return;
        if (filled == lastN) {
            int old = ring[head];
            if (--counts[old] == 0) removeDistinct(old);
            ring[head] = token;
            head = (head + 1) % lastN;
        } else {
            ring[(head + filled) % lastN] = token;
            filled++;
        }
        if (counts[token]++ == 0) {
            where[token] = nDistinct;
            distinct[nDistinct++] = token;
        }
    }

    public void clear() {
        for (int j = 0; j < nDistinct; j++) counts[distinct[j]] = 0;
        head = filled = nDistinct = 0;
    }

    private void removeDistinct(int token) {
        int j = where[token];
        int last = distinct[--nDistinct];
        distinct[j] = last;
        where[last] = j;
    }
}
