package org.jgemma.api;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import org.jgemma.chat.ChatMessage;
import org.jgemma.testing.Fixtures;
import org.jgemma.vision.ImageFormatException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A chat about an image through the public API, against the fixture run of llama-mtmd-cli (-p "Describe the image."
 * --image image2_224x224.png, greedy): the same 31 prompt ids (image positions as placeholders) and the same 8 tokens.
 * The model file is the committed stand-in text model with the tokenizer of models/fixtures/gemma3-vocab.gguf (the
 * fixture's tokenizer is byte-identical to it), and the mmproj lies next to it, so it is found without being named.
 */
class VisionChatTest {
    static Path dir, model;
    static final int[] LLAMA_CPP_PROMPT = {2, 105, 2364, 107, 255999, -1, 256000, 82858, 506, 2471, 236761, 106, 107, 105, 4368, 107};
    static final int[] LLAMA_CPP_GREEDY = org.jgemma.testing.VisionFixture.LLAMA_CPP_GREEDY;

    @BeforeAll
    static void build() {
        model = org.jgemma.testing.VisionFixture.model();
        dir = model.getParent();
    }

    static Model open() throws Exception {
        return Model.open(model, ModelOptions.defaults().withBackend("reference").withContextSize(128).withBatchSize(64));
    }

    @Test
    void describeTheImageGivesLlamaCppsTokens() throws Exception {
        try (Model m = open(); ChatSession chat = m.newChat()) {
            assertTrue(m.hasVision(), "the mmproj next to the model is found");
            assertEquals(towerBytes(), m.visionBytes(), "the mmproj next to the model counts in the memory estimate at open");
            GenerationResult r = chat.send(ChatMessage.user("Describe the image.", Fixtures.file("vision/image2_224x224.png")),
                    GenerationOptions.greedy(8).withStopOnEog(false), (id, piece) -> {});
            int[] ctx = chat.session().history();
            assertEquals(31, r.promptTokens(), "prompt tokens (16 of them the image)");
            int[] shown = new int[16];
            int k = 0;
            for (int i = 0; i < 31; i++) {
                if (ctx[i] < 0) {
                    if (k == 0 || ctx[i - 1] >= 0) shown[k++] = -1;
                    continue;
                }
                shown[k++] = ctx[i];
            }
            assertArrayEquals(LLAMA_CPP_PROMPT, Arrays.copyOf(shown, k), "prompt ids, the image run shown as -1");
            assertArrayEquals(LLAMA_CPP_GREEDY, r.tokens(), "llama-mtmd-cli's 8 greedy tokens");

            // a second turn reuses the cached image and conversation prefix: only the new part is evaluated
            GenerationResult r2 = chat.send("And again?", GenerationOptions.greedy(2).withStopOnEog(false), (id, piece) -> {});
            assertTrue(r2.promptTokens() < 20, "second turn evaluated " + r2.promptTokens() + " tokens");
        }
    }

    @Test
    void bytesAndBufferedImageGiveTheSameAnswer() throws Exception {
        byte[] png = Files.readAllBytes(Fixtures.file("vision/image2_224x224.png"));
        try (Model m = open()) {
            GenerationResult a, b;
            try (ChatSession chat = m.newChat()) {
                a = chat.send(ChatMessage.user("Describe the image.", png), GenerationOptions.greedy(3).withStopOnEog(false), (id, piece) -> {});
            }
            try (ChatSession chat = m.newChat()) {
                var bi = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(png));
                b = chat.send(ChatMessage.user("Describe the image.", bi), GenerationOptions.greedy(3).withStopOnEog(false), (id, piece) -> {});
            }
            assertArrayEquals(Arrays.copyOf(LLAMA_CPP_GREEDY, 3), a.tokens());
            assertArrayEquals(a.tokens(), b.tokens());
        }
    }

    @Test
    void badImageIsOneClearError() {
        var e = assertThrows(ImageFormatException.class, () -> ChatMessage.user("x", "GIF89a-not-really".getBytes()));
        assertTrue(e.getMessage().contains("cannot decode") || e.getMessage().contains("not an image"), e.getMessage());
        var e2 = assertThrows(ImageFormatException.class, () -> ChatMessage.user("x", dir.resolve("missing.png")));
        assertTrue(e2.getMessage().contains("missing.png"), e2.getMessage());
    }

    @Test
    void modelWithoutAProjectorSaysSo() throws Exception {
        Path alone = Fixtures.cacheDir().resolve("vision-alone");
        Files.createDirectories(alone);
        Path copy = alone.resolve("text-only.gguf");
        Files.copy(model, copy, StandardCopyOption.REPLACE_EXISTING);
        try (Model m = Model.open(copy, ModelOptions.defaults().withBackend("reference").withContextSize(64).withBatchSize(32));
             ChatSession chat = m.newChat()) {
            assertFalse(m.hasVision());
            assertEquals(0, m.visionBytes());
            var e = assertThrows(org.jgemma.model.ModelFormatException.class, () -> chat.send(
                    ChatMessage.user("hi", Fixtures.file("vision/image2_224x224.png")), GenerationOptions.greedy(1), (id, piece) -> {}));
            assertTrue(e.getMessage().contains("--mmproj"), e.getMessage());
            // and then the explicit projector works
            m.useMmproj(Fixtures.file("vision/gemma3v-tiny-mmproj-f32.gguf"));
            GenerationResult r = chat.send(List.of(ChatMessage.user("Describe the image.", Fixtures.file("vision/image2_224x224.png"))),
                    GenerationOptions.greedy(1).withStopOnEog(false), (id, piece) -> {});
            assertEquals(LLAMA_CPP_GREEDY[0], r.tokens()[0]);
            assertEquals(towerBytes(), m.visionBytes(), "a projector given later is checked (and counted) when it loads");
        }
    }

    /** The fixture mmproj's part of the estimate: its tensors and one image's buffers. */
    static long towerBytes() throws Exception {
        try (var f = org.jgemma.gguf.GgufFile.open(Fixtures.file("vision/gemma3v-tiny-mmproj-f32.gguf"))) {
            return org.jgemma.vision.VisionMemory.of(f).totalBytes();
        }
    }
}
