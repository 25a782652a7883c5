package org.jgemma.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jgemma.gguf.GgufFile;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real 262144-entry Gemma 3 vocabulary against llama.cpp's own tokenization of the fixture cases
 * (models/fixtures/tokenizer, made with shared/tools/ref_tokenize.cpp: cases split at "\n@@@\n", BOS added).
 */
class TokenizerFixtureTest {
    static Tokenizer tok;
    static List<String> cases;

    @BeforeAll
    static void load() throws IOException {
        try (GgufFile g = GgufFile.open(Fixtures.vocab())) {
            tok = Tokenizer.from(g);
        }
        cases = splitCases(Files.readString(Fixtures.file("tokenizer/cases.txt")));
    }

    /** As ref_tokenize.cpp: split at "\n@@@\n" exactly; the last case keeps whatever the file ends with. */
    static List<String> splitCases(String all) {
        List<String> out = new ArrayList<>();
        String sep = "\n@@@\n";
        int p = 0;
        while (true) {
            int q = all.indexOf(sep, p);
            if (q < 0) {
                out.add(all.substring(p));
                return out;
            }
            out.add(all.substring(p, q));
            p = q + sep.length();
        }
    }

    static List<int[]> expected(String name) throws IOException {
        List<int[]> out = new ArrayList<>();
        for (String line : Files.readAllLines(Fixtures.file("tokenizer/" + name))) {
            out.add(line.isBlank() ? new int[0] : Arrays.stream(line.trim().split(" ")).mapToInt(Integer::parseInt).toArray());
        }
        return out;
    }

    private static void check(String file, boolean parseSpecial) throws IOException {
        List<int[]> exp = expected(file);
        assertEquals(cases.size(), exp.size(), "cases vs lines of " + file);
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            int[] got = tok.encode(cases.get(i), true, parseSpecial);
            if (!Arrays.equals(exp.get(i), got)) {
                bad.add("case " + i + " " + cases.get(i).replace("\n", "\\n") + "\n  expected " + Arrays.toString(exp.get(i))
                        + "\n  got      " + Arrays.toString(got));
            }
        }
        assertTrue(bad.isEmpty(), bad.size() + " of " + cases.size() + " cases differ (" + file + "):\n" + String.join("\n", bad));
    }

    @Test
    void parseSpecialMatchesLlamaCpp() throws IOException {
        check("expected-ids-special.txt", true);
    }

    @Test
    void plainMatchesLlamaCpp() throws IOException {
        check("expected-ids-plain.txt", false);
    }

    /** The protected-range encode at its two ends: no range = parse_special true, all protected = false. */
    @Test
    void protectedRangesSpanParseSpecialAndPlain() throws IOException {
        List<int[]> special = expected("expected-ids-special.txt"), plain = expected("expected-ids-plain.txt");
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            String c = cases.get(i);
            if (!Arrays.equals(special.get(i), tok.encode(c, true, List.of()))) bad.add("case " + i + " no ranges");
            if (!Arrays.equals(plain.get(i), tok.encode(c, true, List.of(new int[] {0, c.length()})))) {
                bad.add("case " + i + " all protected");
            }
            // the same with the text protected in two overlapping pieces
            int h = c.length() / 2;
            List<int[]> pieces = List.of(new int[] {h, c.length()}, new int[] {0, Math.min(c.length(), h + 1)});
            if (!Arrays.equals(plain.get(i), tok.encode(c, true, pieces))) bad.add("case " + i + " protected in pieces");
        }
        assertTrue(bad.isEmpty(), String.join("\n", bad));
    }

    @Test
    void protectedRangeKeepsOverlappingControlTokensAsText() {
        String text = "<start_of_turn>user\nx<end_of_turn>";
        int inner = text.indexOf("x");
        // only the last character of <end_of_turn> protected: it stays text, <start_of_turn> is still parsed
        int[] got = tok.encode(text, false, List.of(new int[] {text.length() - 1, text.length()}));
        int[] head = tok.encode("<start_of_turn>user\n", false, true);
        int[] tail = tok.encode("x<end_of_turn>", false, false);
        int[] want = Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, want, head.length, tail.length);
        assertArrayEquals(want, got);
        // an empty range protects nothing; a range over "x" leaves both control tokens
        assertArrayEquals(tok.encode(text, false, true), tok.encode(text, false, List.of(new int[] {inner, inner})));
        assertArrayEquals(tok.encode(text, false, true), tok.encode(text, false, List.of(new int[] {inner, inner + 1})));
        // a range cutting a surrogate pair protects the whole character (and the token after it stays text)
        String emoji = "\uD83E\uDEE8<end_of_turn>";
        assertArrayEquals(tok.encode(emoji, false, false), tok.encode(emoji, false, List.of(new int[] {1, 3})));
        assertArrayEquals(tok.encode(emoji, false, true), tok.encode(emoji, false, List.of(new int[] {0, 1})));
    }

    @Test
    void vocabularyKeys() {
        assertEquals(262144, tok.vocabularySize());
        assertEquals(2, tok.bosId());
        assertEquals(1, tok.eosId());
        assertEquals(106, tok.eotId());
        assertTrue(tok.addBos());
        assertTrue(!tok.addSpacePrefix());
        // llama.cpp load log on this file: EOG = <eos> 1, <end_of_turn> 106 and </s> 212 (forced to CONTROL)
        assertArrayEquals(new int[] {1, 106, 212}, tok.endOfGenerationIds());
        assertTrue(tok.isControl(212) && tok.isUserDefined(212));
        assertEquals(TokenType.USER_DEFINED, tok.tokenType(212));
        assertEquals("<start_of_turn>", tok.tokenText(105));
        assertEquals(105, tok.tokenId("<start_of_turn>"));
        assertTrue(tok.isUnused(11)); // <unused5>: CONTROL with "unused" in its text
    }
}
