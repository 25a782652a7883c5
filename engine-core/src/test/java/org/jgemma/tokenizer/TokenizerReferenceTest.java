package org.jgemma.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufFormatException;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * More llama.cpp references on the real vocabulary (src/test/resources/tokenizer: extra-cases.txt split at
 * "\n@@@\n", ids from shared/tools/ref_tokenize.cpp built against llama.cpp; the "prefix" files come from the same
 * vocabulary with tokenizer.ggml.add_space_prefix removed by gguf_new_metadata.py, i.e. an Ollama-like file where
 * llama.cpp's SPM default add_space_prefix = true applies). Also decode round trips and the streaming detokenizer.
 */
class TokenizerReferenceTest {
    static Tokenizer tok;
    static Tokenizer prefixTok;
    static String[] tokens;
    static float[] scores;
    static int[] types;
    static List<String> cases;

    @BeforeAll
    static void load() throws IOException {
        try (GgufFile g = GgufFile.open(Fixtures.vocab())) {
            tok = Tokenizer.from(g);
            tokens = g.getStringArray("tokenizer.ggml.tokens");
            scores = g.getFloatArray("tokenizer.ggml.scores");
            types = g.getIntArray("tokenizer.ggml.token_type");
        }
        prefixTok = Tokenizer.of(tokens, scores, types, 2, 1, 3, 0, true, false, true);
        cases = TokenizerFixtureTest.splitCases(resource("extra-cases.txt"));
    }

    static String resource(String name) throws IOException {
        try (InputStream in = TokenizerReferenceTest.class.getResourceAsStream("/tokenizer/" + name)) {
            if (in == null) throw new IOException("missing test resource /tokenizer/" + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static List<int[]> expected(String name) throws IOException {
        List<int[]> out = new ArrayList<>();
        for (String line : resource(name).split("\n")) {
            out.add(Arrays.stream(line.trim().split(" ")).mapToInt(Integer::parseInt).toArray());
        }
        return out;
    }

    private static void check(Tokenizer t, String file, boolean parseSpecial) throws IOException {
        List<int[]> exp = expected(file);
        assertEquals(cases.size(), exp.size(), file);
        for (int i = 0; i < cases.size(); i++) {
            assertArrayEquals(exp.get(i), t.encode(cases.get(i), true, parseSpecial),
                    file + " case " + i + ": " + cases.get(i).replace("\n", "\\n"));
        }
    }

    @Test
    void extraCasesParseSpecial() throws IOException {
        check(tok, "extra-expected-special.txt", true);
    }

    @Test
    void extraCasesPlain() throws IOException {
        check(tok, "extra-expected-plain.txt", false);
    }

    @Test
    void spacePrefixDefaultParseSpecial() throws IOException {
        check(prefixTok, "extra-expected-prefix-special.txt", true);
    }

    @Test
    void spacePrefixDefaultPlain() throws IOException {
        check(prefixTok, "extra-expected-prefix-plain.txt", false);
    }

    @Test
    void emptyTextIsBosOnly() {
        assertArrayEquals(new int[] {2}, tok.encode("", true, true));
        assertArrayEquals(new int[0], tok.encode("", false, true));
    }

    @Test
    void decodeRoundTripsEveryCase() throws IOException {
        List<String> all = new ArrayList<>(cases);
        all.addAll(TokenizerFixtureTest.splitCases(java.nio.file.Files.readString(Fixtures.file("tokenizer/cases.txt"))));
        for (String c : all) {
            assertEquals(c, tok.decode(tok.encode(c, true, false)), "plain: " + c);
            assertEquals(c, tok.decode(tok.encode(c, false, true), false, true), "special rendered: " + c);
        }
    }

    @Test
    void decodeHidesControlTokensUnlessRendered() {
        int[] ids = tok.encode("<start_of_turn>user\nHi<end_of_turn>", true, true);
        assertEquals("user\nHi", tok.decode(ids));
        assertEquals("<bos><start_of_turn>user\nHi<end_of_turn>", tok.decode(ids, false, true));
        assertEquals("<start_of_turn>user\nHi<end_of_turn>", tok.decode(ids, true, true));
    }

    @Test
    void streamingEmitsOnlyWholeCharacters() throws IOException {
        List<String> all = new ArrayList<>(cases);
        all.add("emoji 🫨🫨 and 𠀀 split over byte tokens");
        for (String c : all) {
            int[] ids = tok.encode(c, false, true);
            StreamingDetokenizer d = tok.streamingDetokenizer(true);
            StringBuilder sb = new StringBuilder();
            for (int id : ids) {
                String s = d.accept(id);
                assertFalse(s.contains("\uFFFD"), "a partial character was emitted for " + c);
                sb.append(s);
            }
            assertEquals(0, d.pendingBytes());
            sb.append(d.flush());
            assertEquals(c, sb.toString());
        }
    }

    @Test
    void streamingHoldsAFourByteCharacterUntilItsLastByte() {
        String emoji = "🫨"; // F0 9F AB A8, not in the vocabulary: four <0xHH> tokens
        int[] ids = tok.encode(emoji, false, false);
        assertEquals(4, ids.length);
        StreamingDetokenizer d = tok.streamingDetokenizer(false);
        assertEquals("", d.accept(ids[0]));
        assertEquals("", d.accept(ids[1]));
        assertEquals("", d.accept(ids[2]));
        assertEquals(emoji, d.accept(ids[3]));
        assertEquals("", d.accept(tok.tokenId("<0xF0>")));
        assertEquals("\uFFFD", d.flush());
    }

    @Test
    void byteTokensDecodeToTheirByte() {
        assertEquals(TokenType.BYTE, tok.tokenType(tok.tokenId("<0x41>")));
        assertArrayEquals(new byte[] {0x41}, tok.pieceBytes(tok.tokenId("<0x41>"), false));
        assertArrayEquals(" hello".getBytes(StandardCharsets.UTF_8), tok.pieceBytes(tok.tokenId("▁hello"), false));
        assertArrayEquals(new byte[0], tok.pieceBytes(106, false));
        assertArrayEquals("<end_of_turn>".getBytes(StandardCharsets.UTF_8), tok.pieceBytes(106, true));
        assertArrayEquals(new byte[0], tok.pieceBytes(11, false)); // <unused5>: CONTROL
    }

    @Test
    void truncatedVocabularyAsOllamaShim() throws IOException, GgufFormatException {
        try (GgufFile g = GgufFile.open(Fixtures.vocab())) {
            Tokenizer t = Tokenizer.from(g, 262000);
            assertEquals(262000, t.vocabularySize());
            assertEquals(-1, t.tokenId("<unused6241>"));
            assertArrayEquals(tok.encode("Hello world", true, true), t.encode("Hello world", true, true));
        }
    }

    @Test
    void duplicateTokenTextIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tokenizer.of(new String[] {"a", "b", "a"}, null, null, -1, -1, -1, -1, false, false, false));
        assertEquals("tokenizer.ggml.tokens: token 2 has the same text as token 0: 'a'", e.getMessage());
    }
}
