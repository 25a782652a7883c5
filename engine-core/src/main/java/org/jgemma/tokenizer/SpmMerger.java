package org.jgemma.tokenizer;

import java.util.Arrays;

/**
 * The SentencePiece (SPM) merge of one raw-text fragment, as llama.cpp's {@code llm_tokenizer_spm_session}:
 * split into UTF-8 characters, repeatedly merge the adjacent pair whose concatenation is the highest-scoring token
 * (ties: smaller left index), then emit each final symbol as its token or, failing that, as byte-fallback tokens.
 *
 * <p>llama.cpp's {@code resegment} also consults {@code rev_merge}, but every key of {@code rev_merge} is a token text
 * (try_add_bigram records it only after {@code text_to_token} succeeded) and resegment checks {@code text_to_token}
 * first, so that branch can never be taken: a final symbol is a token or one character that is not.
 *
 * <p>Not thread-safe; one instance per encode call. Arrays grow with the longest fragment and are reused.
 */
final class SpmMerger {
    private final TokenIndex index;
    private final float[] scores;
    private final int[] byteTokens; // [256] id of <0xHH> (or of the one-byte token), -1 = missing

    // symbols: [n] each a byte range of the fragment, linked in a list
    private int[] symStart = new int[64], symLen = new int[64], symPrev = new int[64], symNext = new int[64];
    // max-heap of bigrams: [heapSize]
    private float[] hScore = new float[64];
    private int[] hLeft = new int[64], hRight = new int[64], hSize = new int[64];
    private int heapSize;

    SpmMerger(TokenIndex index, float[] scores, int[] byteTokens) {
        this.index = index;
        this.scores = scores;
        this.byteTokens = byteTokens;
    }

    /** Appends the ids of {@code text[0, len)} (spaces already escaped to U+2581) to {@code out}. */
    void tokenize(byte[] text, int len, IntList out) {
        if (len == 0) return;
        ensureSymbols(len);
        int n = 0;
        for (int off = 0; off < len; ) {
            int cl = Math.min(utf8Len(text[off]), len - off);
            symStart[n] = off;
            symLen[n] = cl;
            symPrev[n] = n - 1;
            off += cl;
            symNext[n] = off == len ? -1 : n + 1;
            n++;
        }
        heapSize = 0;
        for (int i = 1; i < n; i++) tryAddBigram(text, i - 1, i);
        while (heapSize > 0) {
            int left = hLeft[0], right = hRight[0], size = hSize[0];
            pop();
            if (symLen[left] == 0 || symLen[right] == 0 || symLen[left] + symLen[right] != size) continue;
            symLen[left] += symLen[right];
            symLen[right] = 0;
            symNext[left] = symNext[right];
            if (symNext[right] >= 0) symPrev[symNext[right]] = left;
            tryAddBigram(text, symPrev[left], left);
            tryAddBigram(text, left, symNext[left]);
        }
        for (int i = 0; i != -1; i = symNext[i]) {
            int id = index.find(text, symStart[i], symLen[i]);
            if (id >= 0) {
                out.add(id);
                continue;
            }
            for (int j = symStart[i], end = j + symLen[i]; j < end; j++) {
                int b = byteTokens[text[j] & 0xFF];
                if (b < 0) {
                    throw new IllegalStateException(String.format(
                            "no byte-fallback token <0x%02X> (nor the one-byte token) in the vocabulary", text[j] & 0xFF));
                }
                out.add(b);
            }
        }
    }

    /** Byte length of a UTF-8 sequence from its lead byte's high nibble (llama.cpp unicode_len_utf8). */
    static int utf8Len(byte lead) {
        int hi = (lead & 0xFF) >>> 4;
        return hi < 0xC ? 1 : hi < 0xE ? 2 : hi == 0xE ? 3 : 4;
    }

    private void tryAddBigram(byte[] text, int left, int right) {
        if (left < 0 || right < 0) return;
        int size = symLen[left] + symLen[right];
        int id = index.find(text, symStart[left], size);
        if (id < 0) return;
        push(scores[id], left, right, size);
    }

    private boolean before(float sa, int la, float sb, int lb) { // a has priority over b
        return sa > sb || (sa == sb && la < lb);
    }

    private void push(float score, int left, int right, int size) {
        if (heapSize == hScore.length) {
            int c = heapSize * 2;
            hScore = Arrays.copyOf(hScore, c);
            hLeft = Arrays.copyOf(hLeft, c);
            hRight = Arrays.copyOf(hRight, c);
            hSize = Arrays.copyOf(hSize, c);
        }
        int i = heapSize++;
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (!before(score, left, hScore[p], hLeft[p])) break;
            set(i, p);
            i = p;
        }
        hScore[i] = score;
        hLeft[i] = left;
        hRight[i] = right;
        hSize[i] = size;
    }

    private void pop() {
        int last = --heapSize;
        if (last == 0) return;
        float score = hScore[last];
        int left = hLeft[last], right = hRight[last], size = hSize[last];
        int i = 0;
        while (true) {
            int c = 2 * i + 1;
            if (c >= last) break;
            if (c + 1 < last && before(hScore[c + 1], hLeft[c + 1], hScore[c], hLeft[c])) c++;
            if (!before(hScore[c], hLeft[c], score, left)) break;
            set(i, c);
            i = c;
        }
        hScore[i] = score;
        hLeft[i] = left;
        hRight[i] = right;
        hSize[i] = size;
    }

    private void set(int to, int from) {
        hScore[to] = hScore[from];
        hLeft[to] = hLeft[from];
        hRight[to] = hRight[from];
        hSize[to] = hSize[from];
    }

    private void ensureSymbols(int n) {
        if (symStart.length >= n) return;
        int c = Math.max(n, symStart.length * 2);
        symStart = new int[c];
        symLen = new int[c];
        symPrev = new int[c];
        symNext = new int[c];
    }
}
