package org.jgemma.tokenizer;

import java.util.Arrays;

/**
 * Cuts special tokens (CONTROL, USER_DEFINED, UNKNOWN) out of a text exactly as llama.cpp's
 * {@code tokenizer_st_partition} does, without its O(#special x text) scan.
 *
 * <p>llama.cpp takes the special tokens longest first (ties: id order, which its unstable sort leaves open) and, for
 * each, splits every still-raw fragment at its non-overlapping occurrences, left to right. Here a byte trie finds
 * every occurrence of every special token in one pass; the occurrences are sorted by (rank of the token in that
 * order, start) and accepted when their bytes are all still raw. That is the same result: a token's occurrence lies
 * in one raw fragment iff none of its bytes were taken by an earlier (longer, or earlier-ranked) token or by an
 * earlier occurrence of the same token.
 */
final class SpecialTokenMatcher {
    // byte trie, first-child / next-sibling lists
    private final byte[] label;     // [nodes] byte on the edge into the node
    private final int[] firstChild; // [nodes] -1 = none
    private final int[] sibling;    // [nodes] -1 = none
    private final int[] tokenAt;    // [nodes] id of the special token that ends here, -1 = none
    private final int[] rank;       // [n_vocab] position in longest-first order, -1 for non-special tokens
    private final boolean[] alwaysSplit; // [n_vocab] pure USER_DEFINED: split out even when parse_special is false
    private final boolean[] firstByte = new boolean[256];
    private final int[] idByRank;   // [#special] ids, longest first
    private final TokenIndex index;

    private static final int CACHED = TokenAttr.CONTROL | TokenAttr.USER_DEFINED | TokenAttr.UNKNOWN;

    /** @param attrs [n_vocab] {@link TokenAttr} bits */
    SpecialTokenMatcher(TokenIndex index, int[] attrs) {
        int n = attrs.length;
        int count = 0;
        for (int a : attrs) if ((a & CACHED) != 0) count++;
        Integer[] order = new Integer[count];
        int k = 0, totalBytes = 0;
        for (int id = 0; id < n; id++) {
            if ((attrs[id] & CACHED) != 0) {
                order[k++] = id;
                totalBytes += index.tokenLength(id);
            }
        }
        Arrays.sort(order, (a, b) -> index.tokenLength(a) != index.tokenLength(b)
                ? Integer.compare(index.tokenLength(b), index.tokenLength(a)) : Integer.compare(a, b));
        this.index = index;
        idByRank = new int[count];
        rank = new int[n];
        Arrays.fill(rank, -1);
        alwaysSplit = new boolean[n];
        int cap = totalBytes + 1;
        label = new byte[cap];
        firstChild = new int[cap];
        sibling = new int[cap];
        tokenAt = new int[cap];
        Arrays.fill(firstChild, -1);
        Arrays.fill(sibling, -1);
        Arrays.fill(tokenAt, -1);
        int nodes = 1; // node 0 = root
        byte[] pool = index.pool();
        for (int r = 0; r < count; r++) {
            int id = order[r];
            rank[id] = r;
            idByRank[r] = id;
            // llama.cpp skips CONTROL and UNKNOWN tokens when parse_special is false, even those also USER_DEFINED
            alwaysSplit[id] = (attrs[id] & (TokenAttr.CONTROL | TokenAttr.UNKNOWN)) == 0;
            int off = index.tokenOffset(id), len = index.tokenLength(id);
            int node = 0;
            for (int i = 0; i < len; i++) {
                byte c = pool[off + i];
                int child = child(node, c);
                if (child < 0) {
                    child = nodes++;
                    label[child] = c;
                    sibling[child] = firstChild[node];
                    firstChild[node] = child;
                }
                node = child;
            }
            if (len > 0) {
                tokenAt[node] = id;
                firstByte[pool[off] & 0xFF] = true;
            }
        }
    }

    /** Whether a CONTROL / UNKNOWN match over bytes [start, end) may be cut out. */
    private static boolean parseable(int[] protectedPrefix, int start, int end) {
        if (protectedPrefix == null) return true;
        if (protectedPrefix == ALL_PROTECTED) return false;
        return protectedPrefix[end] == protectedPrefix[start];
    }

    private int child(int node, byte c) {
        for (int ch = firstChild[node]; ch >= 0; ch = sibling[ch]) if (label[ch] == c) return ch;
        return -1;
    }

    /**
     * Marks the special tokens of {@code text[0, len)}: {@code tokenStartingAt[i]} is the id of the token cut out
     * at byte i, or -1; the bytes it covers have {@code covered[i] = true}.
     *
     * @return the number of tokens cut out
     */
    int partition(byte[] text, int len, boolean parseSpecial, int[] tokenStartingAt, boolean[] covered) {
        return partition(text, len, parseSpecial ? null : ALL_PROTECTED, tokenStartingAt, covered);
    }

    /** Marker for "every byte protected" (parse_special = false) without building a prefix array. */
    static final int[] ALL_PROTECTED = new int[0];

    /**
     * As {@link #partition(byte[], int, boolean, int[], boolean[])} with parse_special true, except that a CONTROL
     * or UNKNOWN occurrence overlapping a protected byte is not a candidate, exactly as parse_special false treats
     * every occurrence (USER_DEFINED ones are still split out).
     *
     * @param protectedPrefix [len + 1] count of protected bytes before each position; null: nothing protected;
     *     {@link #ALL_PROTECTED}: everything protected
     */
    int partition(byte[] text, int len, int[] protectedPrefix, int[] tokenStartingAt, boolean[] covered) {
        Arrays.fill(tokenStartingAt, 0, len, -1);
        Arrays.fill(covered, 0, len, false);
        // every occurrence, in text order: foundRank[k], foundStart[k]
        int[] foundRank = new int[16], foundStart = new int[16];
        int nFound = 0;
        for (int start = 0; start < len; start++) {
            if (!firstByte[text[start] & 0xFF]) continue;
            int node = 0;
            for (int i = start; i < len; i++) {
                node = child(node, text[i]);
                if (node < 0) break;
                int id = tokenAt[node];
                if (id >= 0 && (alwaysSplit[id] || parseable(protectedPrefix, start, i + 1))) {
                    if (nFound == foundRank.length) {
                        foundRank = Arrays.copyOf(foundRank, nFound * 2);
                        foundStart = Arrays.copyOf(foundStart, nFound * 2);
                    }
                    foundRank[nFound] = rank[id];
                    foundStart[nFound++] = start;
                }
            }
        }
        if (nFound == 0) return 0;
        // stable counting sort by rank: (rank, start) order
        int[] bucket = new int[idByRank.length + 1];
        for (int k = 0; k < nFound; k++) bucket[foundRank[k] + 1]++;
        for (int r = 0; r < idByRank.length; r++) bucket[r + 1] += bucket[r];
        int[] sortedStart = new int[nFound];
        int[] sortedRank = new int[nFound];
        for (int k = 0; k < nFound; k++) {
            int at = bucket[foundRank[k]]++;
            sortedStart[at] = foundStart[k];
            sortedRank[at] = foundRank[k];
        }
        int cut = 0;
        for (int f = 0; f < nFound; f++) {
            int start = sortedStart[f];
            if (covered[start]) continue;
            int id = idByRank[sortedRank[f]];
            int tl = index.tokenLength(id);
            boolean free = true;
            for (int i = start + 1; i < start + tl; i++) {
                if (covered[i]) {
                    free = false;
                    break;
                }
            }
            if (!free) continue;
            Arrays.fill(covered, start, start + tl, true);
            tokenStartingAt[start] = id;
            cut++;
        }
        return cut;
    }
}
