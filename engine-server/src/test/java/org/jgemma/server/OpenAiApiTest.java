package org.jgemma.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** OpenAI's API over the wire: shapes, SSE framing, usage, error objects, and the greedy text of `jgemma run`. */
class OpenAiApiTest {
    static TestServer ts;

    @BeforeAll
    static void start() throws Exception {
        ts = new TestServer();
    }

    @AfterAll
    static void stop() throws Exception {
        ts.close();
    }

    @Test
    void chatCompletion() throws Exception {
        HttpResponse<String> r = ts.post("/v1/chat/completions", """
                {"model":"%s","messages":[{"role":"user","content":"Tell me about the sea"}],"temperature":0,"max_tokens":11}"""
                .formatted(TestServer.GQA));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode o = TestServer.json(r.body());
        assertEquals("chat.completion", o.path("object").asText());
        assertTrue(o.path("id").asText().startsWith("chatcmpl-"));
        JsonNode c = o.path("choices").get(0);
        assertEquals("assistant", c.path("message").path("role").asText());
        assertEquals(TestServer.expectedChat(TestServer.GQA, null, "Tell me about the sea", 11), c.path("message").path("content").asText());
        assertEquals("length", c.path("finish_reason").asText());
        assertEquals(11, o.path("usage").path("completion_tokens").asInt());
        assertEquals(o.path("usage").path("prompt_tokens").asInt() + 11, o.path("usage").path("total_tokens").asInt());
        // content parts and max_completion_tokens
        r = ts.post("/v1/chat/completions", """
                {"model":"%s","messages":[{"role":"user","content":[{"type":"text","text":"Tell me about the sea"}]}],"temperature":0,"max_completion_tokens":11}"""
                .formatted(TestServer.GQA));
        assertEquals(c.path("message").path("content").asText(),
                TestServer.json(r.body()).path("choices").get(0).path("message").path("content").asText());
    }

    @Test
    void chatCompletionStreamIsServerSentEvents() throws Exception {
        HttpResponse<String> r = ts.post("/v1/chat/completions", """
                {"model":"%s","messages":[{"role":"user","content":"Hello"}],"temperature":0,"max_tokens":9,"stream":true,
                 "stream_options":{"include_usage":true}}""".formatted(TestServer.MIX));
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        String body = r.body();
        assertTrue(body.endsWith("data: [DONE]\n\n"), body);
        String[] events = body.split("\n\n");
        StringBuilder text = new StringBuilder();
        String finish = null;
        JsonNode usage = null;
        for (int i = 0; i < events.length - 1; i++) {
            assertTrue(events[i].startsWith("data: "), events[i]);
            JsonNode o = TestServer.json(events[i].substring(6));
            assertEquals("chat.completion.chunk", o.path("object").asText());
            if (o.path("choices").isEmpty()) {
                usage = o.path("usage");
                continue;
            }
            JsonNode ch = o.path("choices").get(0);
            if (i == 0) assertEquals("assistant", ch.path("delta").path("role").asText());
            text.append(ch.path("delta").path("content").asText(""));
            if (!ch.path("finish_reason").isNull()) finish = ch.path("finish_reason").asText();
        }
        assertEquals(TestServer.expectedChat(TestServer.MIX, null, "Hello", 9), text.toString());
        assertEquals("length", finish);
        assertEquals(9, usage.path("completion_tokens").asInt());
    }

    @Test
    void completionsContinueRawText() throws Exception {
        JsonNode o = TestServer.json(ts.post("/v1/completions", """
                {"model":"%s","prompt":"Once upon a time","temperature":0,"max_tokens":8}""".formatted(TestServer.GQA)).body());
        assertEquals("text_completion", o.path("object").asText());
        assertEquals(TestServer.expectedRaw(TestServer.GQA, "Once upon a time", 8), o.path("choices").get(0).path("text").asText());
        HttpResponse<String> r = ts.post("/v1/completions", """
                {"model":"%s","prompt":"Once upon a time","temperature":0,"max_tokens":8,"stream":true}""".formatted(TestServer.GQA));
        StringBuilder sb = new StringBuilder();
        for (String ev : r.body().split("\n\n")) {
            if (ev.equals("data: [DONE]")) continue;
            sb.append(TestServer.json(ev.substring(6)).path("choices").get(0).path("text").asText());
        }
        assertEquals(o.path("choices").get(0).path("text").asText(), sb.toString());
    }

    @Test
    void models() throws Exception {
        JsonNode o = TestServer.json(ts.get("/v1/models").body());
        assertEquals("list", o.path("object").asText());
        assertEquals(3, o.path("data").size());
        assertEquals("model", o.path("data").get(0).path("object").asText());
        JsonNode one = TestServer.json(ts.get("/v1/models/" + TestServer.GQA + ":latest").body());
        assertEquals(TestServer.GQA + ":latest", one.path("id").asText());
    }

    /** Every way chat/completions' messages can be wrong, and its exact message (the parser is shared with Ollama's API). */
    @Test
    void badMessagesAreNamedExactly() throws Exception {
        String[][] cases = {
                {null, "field 'messages' is required"},
                {"[]", "field 'messages' must hold at least one message"},
                {"\"x\"", "field 'messages' must be an array, got a string"},
                {"[1]", "field 'messages[0]' must be an object, got a number"},
                {"[{\"content\":\"x\"}]", "field 'messages[0].role' is required"},
                {"[{\"role\":5}]", "field 'role' must be a string, got a number"},
                {"[{\"role\":\"user\",\"content\":\"x\",\"tool_calls\":[{}]}]",
                        "tool_calls (function calling) in messages[0] is not supported by jgemma serve yet"},
                {"[{\"role\":\"function\",\"content\":\"x\"}]",
                        "role 'function' (function calling) in messages[0] is not supported by jgemma serve yet"},
                {"[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"bot\",\"content\":\"y\"}]",
                        "field 'messages[1].role' must be system, developer, user or assistant, got 'bot'"},
                {"[{\"role\":\"user\",\"content\":5}]", "field 'messages[0].content' must be a string or an array of content parts, got a number"},
                {"[{\"role\":\"user\",\"content\":[3]}]", "field 'messages[0].content[0]' must be an object, got a number"},
                {"[{\"role\":\"user\",\"content\":[{\"type\":\"audio\"}]}]",
                        "content part type 'audio' in messages[0].content[0] is not supported by jgemma serve yet"},
                {"[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]", "field 'messages[0].content[0].image_url.url' is required"},
        };
        for (String[] c : cases) {
            String msgs = c[0] == null ? "" : ",\"messages\":" + c[0];
            HttpResponse<String> r = ts.post("/v1/chat/completions", "{\"model\":\"" + TestServer.GQA + "\"" + msgs + "}");
            assertEquals(400, r.statusCode(), c[0] + " -> " + r.body());
            assertEquals(c[1], TestServer.json(r.body()).path("error").path("message").asText(), c[0]);
        }
        // a developer message is a system message (OpenAI's newer name for it)
        HttpResponse<String> dev = ts.post("/v1/chat/completions", """
                {"model":"%s","messages":[{"role":"developer","content":"Be brief."},{"role":"user","content":"Hi"}],"temperature":0,"max_tokens":3}"""
                .formatted(TestServer.GQA));
        HttpResponse<String> sys = ts.post("/v1/chat/completions", """
                {"model":"%s","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"temperature":0,"max_tokens":3}"""
                .formatted(TestServer.GQA));
        assertEquals(200, dev.statusCode(), dev.body());
        assertEquals(TestServer.json(sys.body()).path("choices").get(0).path("message").path("content").asText(),
                TestServer.json(dev.body()).path("choices").get(0).path("message").path("content").asText());
    }

    @Test
    void errorsAreOpenAiErrorObjects() throws Exception {
        HttpResponse<String> r = ts.post("/v1/chat/completions", "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(404, r.statusCode());
        JsonNode e = TestServer.json(r.body()).path("error");
        assertEquals("model 'gpt-4o' not found", e.path("message").asText());
        assertEquals("invalid_request_error", e.path("type").asText());
        assertEquals("model_not_found", e.path("code").asText());
        assertTrue(e.has("param"));
        r = ts.post("/v1/chat/completions", "{\"model\":\"" + TestServer.GQA + "\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":5}");
        assertEquals(400, r.statusCode());
        assertTrue(TestServer.json(r.body()).path("error").path("message").asText().contains("temperature"));
        r = ts.post("/v1/chat/completions", "{\"model\":\"" + TestServer.GQA + "\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}");
        assertEquals(400, r.statusCode());
        assertTrue(TestServer.json(r.body()).path("error").path("message").asText().contains("tools"));
        r = ts.post("/v1/chat/completions", "{\"model\":\"" + TestServer.GQA + "\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:,\"}}]}]}");
        assertEquals(400, r.statusCode());
        assertTrue(TestServer.json(r.body()).path("error").path("message").asText().contains("image_url"));
        r = ts.post("/v1/chat/completions", "{\"model\":\"" + TestServer.GQA + "\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":{\"type\":\"json_object\"}}");
        assertEquals(400, r.statusCode());
        assertTrue(TestServer.json(r.body()).path("error").path("message").asText().contains("response_format"));
    }
}
