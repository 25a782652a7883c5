package org.jgemma.tokenizer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.jgemma.api.Model;
import org.jgemma.api.ModelOptions;
import org.jgemma.gguf.GgufValue;
import org.jgemma.model.ModelFormatException;
import org.jgemma.testing.Fixtures;
import org.jgemma.testing.HostileModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The vocabulary's contents are checked when the model opens, each failure a {@link ModelFormatException} naming the
 * token: before, a short vocabulary loaded and then failed on a sampled id, a BYTE token with another text failed in
 * decode with NumberFormatException, a vocabulary without byte fallback failed on the first tokenize with
 * IllegalStateException, duplicates with IllegalArgumentException.
 */
class TokenizerHostileTest {
    @TempDir
    Path tmp;

    /** The tiny fixture (1024 tokens, byte tokens at 238..493: {@code <0x41>} is 303) with its tokens edited. */
    private ModelFormatException refused(UnaryOperator<String[]> editTokens, String... mentions) throws Exception {
        return refused(editTokens, -1, mentions);
    }

    /** As above, and token {@code normalId} retyped NORMAL (-1: none). */
    private ModelFormatException refused(UnaryOperator<String[]> editTokens, int normalId, String... mentions) throws Exception {
        Path p = HostileModels.write(Fixtures.file("tiny/gemma3-tiny-f32.gguf"), tmp.resolve("t.gguf"), w -> {
            String[] tokens = ((String[]) w.metadata().get("tokenizer.ggml.tokens").value()).clone();
            w.put("tokenizer.ggml.tokens", GgufValue.ofStringArray(editTokens.apply(tokens)));
            if (normalId >= 0) {
                int[] types = ((int[]) w.metadata().get("tokenizer.ggml.token_type").value()).clone();
                types[normalId] = 1;
                w.put("tokenizer.ggml.token_type", GgufValue.ofInt32Array(types));
            }
        });
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> Model.open(p, ModelOptions.defaults().withBackend("reference").withContextSize(32)).close());
        for (String m : mentions) assertTrue(e.getMessage().contains(m), "'" + m + "' not in: " + e.getMessage());
        return e;
    }

    @Test
    void fewerTokensThanEmbeddingRows() throws Exception {
        refused(t -> java.util.Arrays.copyOf(t, 1000), "1000 tokens", "1024 rows of token_embd.weight");
    }

    @Test
    void byteTokenWithAnotherText() throws Exception {
        refused(t -> {
            t[303] = "<0xZZ>";
            return t;
        }, "token 303", "BYTE", "<0xZZ>");
    }

    @Test
    void byteFallbackMissing() throws Exception {
        // token 303 was <0x41>; 'A' is also no single-char token of this vocabulary
        refused(t -> {
            t[303] = "not-a-byte";
            return t;
        }, 303, "no byte-fallback token <0x41>");
    }

    @Test
    void duplicateTexts() throws Exception {
        refused(t -> {
            t[900] = t[800];
            return t;
        }, "token 900", "token 800");
    }

    @Test
    void controlCharactersInTokenTextsAreEscapedInTheMessage() throws Exception {
        ModelFormatException e = refused(t -> {
            t[303] = "\u001b]0;x\u0007";
            return t;
        }, "token 303");
        assertTrue(!e.getMessage().contains("\u001b"), e.getMessage());
    }
}
