package org.jgemma.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.io.IOException;
import java.util.Random;
import org.jgemma.gguf.GgufFile;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The fast tokenizer against its plain twin {@link TokenizerReference} (a direct port of llama.cpp's loops) on
 * seeded random texts made of special-token texts, their prefixes, whitespace runs, ASCII, accented letters, CJK,
 * emoji and characters outside the vocabulary; with and without parse_special and add_space_prefix.
 */
class TokenizerTwinTest {
    static Tokenizer tok, prefixTok;
    static TokenizerReference ref, prefixRef;

    static final String[] PIECES = {"<start_of_turn>", "<end_of_turn>", "<start_of", "_turn>", "<bos>", "<eos>", "</s>",
        "<unused12>", "<mask>", "[multimodal]", "<table>", "</td>", "<h1>", "<", ">", " ", "  ", "     ", "\n", "\n\n\n",
        "\t", "\t\t", "the", " quick", "brown", "fox", "ing", "Hello", "world", ",", ".", "!", "é", "ß", "ñ", "日本",
        "語", "한국", "🫨", "🙂", "👍🏽", "\u0378", "\uE000", "𠀀", "0", "123", "a", "aa", "ab", "x", "\r\n", "\u00a0"};

    @BeforeAll
    static void load() throws IOException {
        try (GgufFile g = GgufFile.open(Fixtures.vocab())) {
            tok = Tokenizer.from(g);
            prefixTok = Tokenizer.of(g.getStringArray("tokenizer.ggml.tokens"), g.getFloatArray("tokenizer.ggml.scores"),
                    g.getIntArray("tokenizer.ggml.token_type"), 2, 1, 3, 0, true, false, true);
        }
        ref = new TokenizerReference(tok);
        prefixRef = new TokenizerReference(prefixTok);
    }

    @Test
    void theReferenceReproducesLlamaCpp() throws IOException {
        var cases = TokenizerFixtureTest.splitCases(java.nio.file.Files.readString(Fixtures.file("tokenizer/cases.txt")));
        var special = TokenizerFixtureTest.expected("expected-ids-special.txt");
        var plain = TokenizerFixtureTest.expected("expected-ids-plain.txt");
        for (int i = 0; i < cases.size(); i++) {
            assertArrayEquals(special.get(i), ref.encode(cases.get(i), true, true), "case " + i);
            assertArrayEquals(plain.get(i), ref.encode(cases.get(i), true, false), "case " + i);
        }
    }

    @Test
    void randomTextsMatchTheReference() {
        Random rnd = new Random(20250301);
        for (int c = 0; c < 200; c++) {
            StringBuilder sb = new StringBuilder();
            int n = rnd.nextInt(40);
            for (int i = 0; i < n; i++) sb.append(PIECES[rnd.nextInt(PIECES.length)]);
            String text = sb.toString();
            for (boolean special : new boolean[] {true, false}) {
                assertArrayEquals(ref.encode(text, true, special), tok.encode(text, true, special),
                        "parse_special=" + special + ": " + text.replace("\n", "\\n"));
                assertArrayEquals(prefixRef.encode(text, true, special), prefixTok.encode(text, true, special),
                        "add_space_prefix, parse_special=" + special + ": " + text.replace("\n", "\\n"));
            }
        }
    }
}
