package org.jgemma.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The raw wire format as curl sees it: one NDJSON line per token, SSE events, HEAD /, status lines. */
class CurlWireFormatTest {
    static TestServer ts;

    @BeforeAll
    static void start() throws Exception {
        ts = new TestServer();
    }

    @AfterAll
    static void stop() throws Exception {
        ts.close();
    }

    static String curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-N", "--max-time", "120"));
        cmd.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            if (System.getenv("CI") != null) throw e;
            Assumptions.abort("curl is not installed");
            return null;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(150, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void ndjsonLinePerToken() throws Exception {
        String out = curl(ts.base() + "/api/generate", "-d",
                "{\"model\":\"" + TestServer.GQA + "\",\"prompt\":\"Tell me about the sea\",\"options\":{\"temperature\":0,\"num_predict\":16}}");
        assertTrue(out.endsWith("}\n"), out);
        String[] lines = out.split("\n");
        JsonNode last = TestServer.json(lines[lines.length - 1]);
        assertEquals(16, last.path("eval_count").asInt());
        assertEquals(17, lines.length, "one line per generated token (all non-empty here) and the final one:\n" + out);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            JsonNode o = TestServer.json(lines[i]);
            assertEquals(false, o.path("done").asBoolean());
            assertTrue(o.path("created_at").asText().endsWith("Z"));
            sb.append(o.path("response").asText());
        }
        assertEquals(TestServer.expectedChat(TestServer.GQA, null, "Tell me about the sea", 16), sb.toString());
    }

    @Test
    void serverSentEvents() throws Exception {
        String out = curl("-i", ts.base() + "/v1/chat/completions", "-H", "Content-Type: application/json", "-d",
                "{\"model\":\"" + TestServer.GQA + "\",\"stream\":true,\"temperature\":0,\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
        String head = out.substring(0, out.indexOf("\r\n\r\n"));
        String body = out.substring(out.indexOf("\r\n\r\n") + 4);
        assertTrue(head.startsWith("HTTP/1.1 200"), head);
        assertTrue(head.toLowerCase().contains("content-type: text/event-stream"), head);
        assertTrue(body.matches("(?s)(data: \\{[^\\n]*\\}\\n\\n)+data: \\[DONE\\]\\n\\n"), body);
    }

    @Test
    void headRootAndErrorStatus() throws Exception {
        String head = curl("-I", ts.base() + "/");
        assertTrue(head.startsWith("HTTP/1.1 200"), head);
        String err = curl("-i", ts.base() + "/api/chat", "-d", "{\"model\":\"missing\"}");
        assertTrue(err.startsWith("HTTP/1.1 404"), err);
        assertTrue(err.endsWith("{\"error\":\"model 'missing' not found\"}"), err);
    }
}
