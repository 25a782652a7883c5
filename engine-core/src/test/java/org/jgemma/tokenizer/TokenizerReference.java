package org.jgemma.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * A plain, line-by-line port of llama.cpp's SPM tokenize (llama-vocab.cpp: tokenizer_st_partition over a fragment
 * list, then llm_tokenizer_spm_session with std::priority_queue, rev_merge and resegment) on Strings of bytes
 * (ISO-8859-1 strings, one char per byte). Slow; the twin the fast {@link Tokenizer} is compared against.
 */
final class TokenizerReference {
    private final Tokenizer tok;
    private final Map<String, Integer> tokenToId = new HashMap<>();
    private final List<Integer> specialCache = new ArrayList<>(); // longest first, ties by id
    private final String[] bytesText;

    TokenizerReference(Tokenizer tok) {
        this.tok = tok;
        int n = tok.vocabularySize();
        bytesText = new String[n];
        for (int i = 0; i < n; i++) {
            bytesText[i] = latin(tok.tokenText(i).getBytes(StandardCharsets.UTF_8));
            tokenToId.put(bytesText[i], i);
            if (tok.isControl(i) || tok.isUserDefined(i) || tok.tokenType(i) == TokenType.UNKNOWN) specialCache.add(i);
        }
        specialCache.sort(Comparator.comparingInt((Integer id) -> -bytesText[id].length()).thenComparingInt(id -> id));
    }

    private static String latin(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    /** A fragment: raw text [offset, offset + length) or a token. */
    private record Fragment(int token, int offset, int length) {}

    int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        String raw = latin(text.getBytes(StandardCharsets.UTF_8));
        List<Fragment> buffer = new ArrayList<>();
        if (!raw.isEmpty()) buffer.add(new Fragment(-1, 0, raw.length()));
        for (int id : specialCache) {
            boolean controlOrUnknown = tok.isControl(id) || tok.tokenType(id) == TokenType.UNKNOWN;
            if (!parseSpecial && controlOrUnknown) continue;
            String st = bytesText[id];
            for (int k = 0; k < buffer.size(); k++) {
                Fragment f = buffer.get(k);
                if (f.token >= 0) continue;
                int base = f.offset, len = f.length;
                List<Fragment> repl = new ArrayList<>();
                while (true) {
                    int match = raw.indexOf(st, base); // std::string_view(raw, base + len).find(st, base)
                    if (match < 0 || match + st.length() > base + len) {
                        repl.add(new Fragment(-1, base, len));
                        break;
                    }
                    if (match > base) repl.add(new Fragment(-1, base, match - base));
                    repl.add(new Fragment(id, 0, 0));
                    int rOff = match + st.length();
                    int rLen = base + len - rOff;
                    if (rLen <= 0) break;
                    base = rOff;
                    len = rLen;
                }
                buffer.remove(k);
                buffer.addAll(k, repl);
                k += repl.size() - 1;
            }
        }
        List<Integer> out = new ArrayList<>();
        boolean isPrevSpecial = true;
        if (addSpecial && tok.addBos()) out.add(tok.bosId());
        for (Fragment f : buffer) {
            if (f.token >= 0) {
                out.add(f.token);
                isPrevSpecial = true;
                continue;
            }
            String t = (tok.addSpacePrefix() && isPrevSpecial ? " " : "") + raw.substring(f.offset, f.offset + f.length);
            spm(t.replace(" ", "\u00E2\u0096\u0081"), out);
            isPrevSpecial = false;
        }
        if (addSpecial && tok.addEos()) out.add(tok.eosId());
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private record Bigram(int left, int right, float score, int size) {}

    private void spm(String text, List<Integer> output) {
        List<int[]> symbols = new ArrayList<>(); // {prev, next, start, n}
        int offs = 0, index = 0;
        while (offs < text.length()) {
            int len = Math.min(SpmMerger.utf8Len((byte) text.charAt(offs)), text.length() - offs);
            int start = offs;
            offs += len;
            symbols.add(new int[] {index - 1, offs == text.length() ? -1 : index + 1, start, len});
            index++;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.score != b.score
                ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        Map<String, int[]> revMerge = new HashMap<>();
        for (int i = 1; i < symbols.size(); i++) addBigram(text, symbols, queue, revMerge, i - 1, i);
        while (!queue.isEmpty()) {
            Bigram b = queue.poll();
            int[] l = symbols.get(b.left), r = symbols.get(b.right);
            if (l[3] == 0 || r[3] == 0 || l[3] + r[3] != b.size) continue;
            l[3] += r[3];
            r[3] = 0;
            l[1] = r[1];
            if (r[1] >= 0) symbols.get(r[1])[0] = b.left;
            addBigram(text, symbols, queue, revMerge, l[0], b.left);
            addBigram(text, symbols, queue, revMerge, b.left, l[1]);
        }
        if (symbols.isEmpty()) return;
        for (int i = 0; i != -1; i = symbols.get(i)[1]) resegment(text, symbols, revMerge, symbols.get(i), output);
    }

    private void resegment(String text, List<int[]> symbols, Map<String, int[]> revMerge, int[] sym, List<Integer> out) {
        String s = text.substring(sym[2], sym[2] + sym[3]);
        Integer id = tokenToId.get(s);
        if (id != null) {
            out.add(id);
            return;
        }
        int[] p = revMerge.get(s);
        if (p == null) {
            for (int j = 0; j < s.length(); j++) {
                Integer b = tokenToId.get(String.format("<0x%02X>", (int) s.charAt(j)));
                out.add(b != null ? b : tokenToId.get(String.valueOf(s.charAt(j))));
            }
            return;
        }
        resegment(text, symbols, revMerge, symbols.get(p[0]), out);
        resegment(text, symbols, revMerge, symbols.get(p[1]), out);
    }

    private void addBigram(String text, List<int[]> symbols, PriorityQueue<Bigram> q, Map<String, int[]> revMerge,
            int left, int right) {
        if (left == -1 || right == -1) return;
        int[] l = symbols.get(left), r = symbols.get(right);
        String s = text.substring(l[2], l[2] + l[3] + r[3]);
        Integer id = tokenToId.get(s);
        if (id == null) return;
        q.add(new Bigram(left, right, tok.score(id), s.length()));
        revMerge.put(s, new int[] {left, right});
    }
}
