package org.jgemma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jgemma.api.Model;
import org.jgemma.api.ModelOptions;
import org.jgemma.testing.VisionFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Image paths typed into the chat of {@code jgemma run MODEL} (as {@code ollama run} takes them), as a separate process:
 * with piped standard input and at a pseudo-terminal (expect). The message with the image gets llama-mtmd-cli's greedy
 * answer for the vision fixture ("Describe the image." with image2); a missing image is one error line, nothing is sent.
 */
class InlineImageChatTest {
    static String expected;

    @BeforeAll
    static void reference() throws Exception {
        try (Model m = Model.open(VisionFixture.model(), ModelOptions.defaults().withBackend("reference").withContextSize(64))) {
            expected = m.detokenize(VisionFixture.LLAMA_CPP_GREEDY);
        }
    }

    static List<String> run(Path home) {
        return TerminalTest.jgemma(home, List.of(), "run", VisionFixture.model().toString(), "--backend", "cpu", "--temperature", "0",
                "-n", "8", "-c", "128");
    }

    /** image2 copied to a folder and file name with spaces and parentheses; returns it. */
    static Path spacedImage(Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("my pics"));
        return Files.copy(VisionFixture.image("image2_224x224"), dir.resolve("image (2).png"));
    }

    static void assertSaved(Path save) throws Exception {
        JsonNode m = new ObjectMapper().readTree(save.toFile()).get("messages");
        assertEquals(2, m.size(), m.toString()); // the refused message was never sent
        assertEquals("Describe the image.", m.get(0).get("content").asText()); // the path is out of the text
        assertEquals(expected, m.get(1).get("content").asText());
    }

    @Test
    void pipedMessagesAttachTypedImages(@TempDir Path tmp) throws Exception {
        Path img = spacedImage(tmp);
        String escaped = img.toString().replace(" ", "\\ ").replace("(", "\\(").replace(")", "\\)");
        Path save = tmp.resolve("saved.json");
        Path in = Files.writeString(tmp.resolve("in.txt"), "/no/such/dir/x.png Describe the image.\n" + escaped
                + " Describe the image.\n/save " + save + "\n", StandardCharsets.UTF_8);
        Path out = tmp.resolve("o"), err = tmp.resolve("e");
        Process p = new ProcessBuilder(run(tmp)).redirectInput(in.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "timed out");
        String e = Files.readString(err);
        assertEquals(0, p.exitValue(), e);
        assertEquals(expected, Files.readString(out).stripTrailing(), e); // one reply: llama.cpp's greedy answer; nothing else
        assertTrue(e.contains("error: no such image file '/no/such/dir/x.png' (the message was not sent)\n"), e);
        assertTrue(e.contains("Added image '" + img + "'\n"), e); // Ollama's line, the path unescaped
        assertSaved(save);
    }

    @Test
    void aBrokenProjectorIsOneErrorAndTheChatGoesOn(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Path model = Files.copy(VisionFixture.model(), dir.resolve("gemma3v-tiny.gguf"));
        Files.writeString(dir.resolve("broken-mmproj.gguf"), "GGUF but not really");
        Path in = Files.writeString(tmp.resolve("in.txt"), VisionFixture.image("image2_224x224") + " Describe the image.\nHi\n");
        Path out = tmp.resolve("o"), err = tmp.resolve("e");
        List<String> cmd = TerminalTest.jgemma(tmp, List.of(), "run", model.toString(), "--backend", "cpu", "-n", "2", "-c", "128");
        Process p = new ProcessBuilder(cmd).redirectInput(in.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "timed out");
        String e = Files.readString(err);
        assertEquals(0, p.exitValue(), e);
        assertTrue(e.lines().anyMatch(l -> l.startsWith("error: ") && l.contains("broken-mmproj.gguf")), e);
        assertEquals(1, Files.readAllLines(out).size(), Files.readString(out) + e); // the reply to "Hi" only
    }

    @Test
    void terminalChatAttachesQuotedPaths(@TempDir Path tmp) throws Exception {
        assumeTrue(TerminalTest.onPath("expect"), "expect is not installed (apt-get install expect): the pseudo-terminal chat test cannot run");
        Path img = spacedImage(tmp);
        Path script = tmp.resolve("image-chat.exp");
        try (InputStream s = getClass().getResourceAsStream("image-chat.exp")) {
            Files.write(script, s.readAllBytes());
        }
        Path save = tmp.resolve("saved.json");
        List<String> cmd = new ArrayList<>(List.of("expect", script.toString(), save.toString(), "'" + img + "'", tmp + "/missing.jpeg"));
        cmd.addAll(run(tmp));
        TerminalTest.Run r = TerminalTest.exec(cmd, tmp);
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("Added image '" + img + "'"), r.out());
        assertSaved(save);
    }
}
