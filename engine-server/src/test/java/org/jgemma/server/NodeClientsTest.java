package org.jgemma.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jgemma.api.ChatSession;
import org.jgemma.api.Model;
import org.jgemma.api.ModelOptions;
import org.jgemma.api.TokenListener;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The clients people use from JavaScript: the official {@code ollama} and {@code openai} npm packages, and the /ui
 * page in a real headless Chromium (playwright-core driving Debian's chromium). The scripts live in
 * src/test/node; {@code .ci/run} installs their packages ({@code npm ci}) and chromium. Outside CI a missing node,
 * node_modules or chromium skips these tests with a message saying what to install; in CI ({@code CI} set) it fails.
 */
class NodeClientsTest {
    static TestServer ts;
    static final Path NODE_DIR = Path.of(System.getProperty("jgemma.node.dir", "src/test/node"));

    @BeforeAll
    static void start() throws Exception {
        ts = new TestServer();
    }

    @AfterAll
    static void stop() throws Exception {
        ts.close();
    }

    static void require(boolean present, String what) {
        if (present) return;
        String msg = what + " is missing: run `npm ci --prefix engine-server/src/test/node` (and `apt-get install chromium` for the /ui test),"
                + " as .ci/run does";
        if (System.getenv("CI") != null) throw new AssertionError("CI must run the node client tests: " + msg);
        Assumptions.abort(msg);
    }

    static boolean nodeRuns() {
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Runs a script with the server's URL and a model name; returns the JSON it printed last. */
    static JsonNode run(String script, String model, Map<String, String> env) throws Exception {
        require(nodeRuns(), "node (Node.js 20+)");
        require(Files.isDirectory(NODE_DIR.resolve("node_modules")), NODE_DIR.resolve("node_modules").toString());
        ProcessBuilder pb = new ProcessBuilder("node", script).directory(NODE_DIR.toFile());
        pb.environment().put("JGEMMA_URL", ts.base());
        pb.environment().put("MODEL", model);
        pb.environment().putAll(env);
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), script + " timed out");
        String text = new String(out, StandardCharsets.UTF_8).strip();
        assertEquals(0, p.exitValue(), script + " failed: " + text);
        String last = text.substring(text.lastIndexOf('\n') + 1);
        System.err.println(script + ": " + last);
        return TestServer.json(last);
    }

    @Test
    void ollamaNpmPackage() throws Exception {
        JsonNode o = run("ollama-client.mjs", TestServer.GQA, Map.of());
        String sea = TestServer.expectedChat(TestServer.GQA, null, "Tell me about the sea", 10);
        assertTrue(o.path("list").toString().contains(TestServer.GQA + ":latest"), o.toString());
        assertEquals("gemma3", o.path("family").asText());
        assertEquals(sea, o.path("chat").asText());
        assertEquals("length", o.path("chatDoneReason").asText());
        assertEquals(10, o.path("chatEvalCount").asInt());
        assertTrue(o.path("chatDurationsAreNanos").asBoolean());
        assertEquals(sea, o.path("chatStream").asText());
        assertTrue(o.path("chatStreamParts").asInt() > 2);
        String sky = TestServer.expectedChat(TestServer.GQA, null, "Why is the sky blue?", 8);
        assertEquals(sky, o.path("generate").asText());
        assertEquals(sky, o.path("generateStream").asText());
        assertTrue(o.path("ps").toString().contains(TestServer.GQA), o.toString());
        assertEquals(404, o.path("error").path("status").asInt(), o.toString());
        assertTrue(o.path("error").path("message").asText().contains("not found"), o.toString());
        assertEquals(400, o.path("imageError").path("status").asInt(), o.toString());
        assertTrue(o.path("imageError").path("message").asText().contains("images"), o.toString());
    }

    @Test
    void openAiNpmPackage() throws Exception {
        JsonNode o = run("openai-client.mjs", TestServer.MIX, Map.of());
        String sea = TestServer.expectedChat(TestServer.MIX, null, "Tell me about the sea", 10);
        assertTrue(o.path("models").toString().contains(TestServer.MIX + ":latest"), o.toString());
        assertEquals(sea, o.path("chat").asText());
        assertEquals("length", o.path("finishReason").asText());
        assertEquals(10, o.path("usage").path("completion_tokens").asInt());
        assertEquals(sea, o.path("chatStream").asText());
        assertEquals(10, o.path("streamUsage").path("completion_tokens").asInt());
        assertEquals(TestServer.expectedRaw(TestServer.MIX, "Once upon a time", 8), o.path("completion").asText());
        assertEquals(404, o.path("error").path("status").asInt(), o.toString());
        assertEquals("model_not_found", o.path("error").path("code").asText(), o.toString());
    }

    @Test
    void chatPageInHeadlessChromium() throws Exception {
        String chromium = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");
        require(Files.isExecutable(Path.of(chromium)), chromium);
        String shot = System.getProperty("jgemma.ui.screenshot");
        JsonNode o = run("ui.mjs", TestServer.GQA + ":latest", shot == null ? Map.of() : Map.of("SCREENSHOT", shot));
        List<String> expected = new ArrayList<>();
        try (Model m = Model.open(TestServer.modelFile(TestServer.GQA), ModelOptions.defaults().withBackend("cpu"));
             ChatSession chat = m.newChat(null)) {
            for (String prompt : List.of("Tell me about the sea", "And the sky?")) {
                StringBuilder sb = new StringBuilder();
                chat.send(prompt, TestServer.greedy(10), TokenListener.text(sb::append));
                expected.add(sb.toString());
            }
        }
        assertTrue(o.path("options").toString().contains(TestServer.MIX), o.toString());
        assertEquals(expected.get(0), o.path("first").asText());
        assertEquals(expected.get(1), o.path("second").asText(), "the second turn sees the first");
        assertEquals(2, o.path("stats").size());
        assertEquals(0, o.path("errors").size(), o.toString());
    }
}
