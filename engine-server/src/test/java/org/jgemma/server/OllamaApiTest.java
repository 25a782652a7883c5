package org.jgemma.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Ollama's API over the wire (java.net.http): shapes, fields, status codes and the greedy text of `jgemma run`. */
class OllamaApiTest {
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
    void rootVersionTags() throws Exception {
        HttpResponse<String> r = ts.get("/");
        assertEquals(200, r.statusCode());
        assertEquals("jgemma is running", r.body());
        assertTrue(TestServer.json(ts.get("/api/version").body()).path("version").isTextual());
        JsonNode tags = TestServer.json(ts.get("/api/tags").body());
        List<String> names = new ArrayList<>();
        for (JsonNode m : tags.path("models")) {
            names.add(m.path("name").asText());
            assertEquals(64, m.path("digest").asText().length());
            assertTrue(m.path("size").asLong() > 1_000_000);
            assertEquals("gemma3", m.path("details").path("family").asText());
            assertEquals("gguf", m.path("details").path("format").asText());
            assertTrue(m.path("modified_at").asText().matches("\\d{4}-\\d\\d-\\d\\dT.*"), m.toString());
        }
        assertEquals(List.of("tiny:latest", TestServer.GQA + ":latest", TestServer.MIX + ":latest"), names);
        JsonNode gqa = tags.path("models").get(1).path("details");
        assertEquals("Q4_K_M", gqa.path("quantization_level").asText());
        assertTrue(gqa.path("parameter_size").asText().endsWith("M"), gqa.toString());
    }

    @Test
    void generateNonStreamingEqualsRun() throws Exception {
        String prompt = "Tell me about the sea";
        HttpResponse<String> r = ts.post("/api/generate", """
                {"model":"%s","prompt":"%s","stream":false,"options":{"temperature":0,"num_predict":12}}""".formatted(TestServer.GQA, prompt));
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonNode o = TestServer.json(r.body());
        assertEquals(TestServer.expectedChat(TestServer.GQA, null, prompt, 12), o.path("response").asText());
        assertEquals(TestServer.GQA, o.path("model").asText());
        assertTrue(o.path("done").asBoolean());
        assertEquals("length", o.path("done_reason").asText());
        assertEquals(12, o.path("eval_count").asInt());
        assertTrue(o.path("prompt_eval_count").asInt() > 5);
        for (String f : List.of("total_duration", "load_duration", "prompt_eval_duration", "eval_duration")) {
            assertTrue(o.path(f).isIntegralNumber(), f);
        }
        assertTrue(o.path("total_duration").asLong() >= o.path("prompt_eval_duration").asLong() + o.path("eval_duration").asLong());
        assertTrue(o.path("eval_duration").asLong() > 1000, "nanoseconds, not milliseconds");
    }

    @Test
    void generateStreamsOneNdjsonLinePerPiece() throws Exception {
        String prompt = "Why is the sky blue?";
        HttpResponse<String> r = ts.post("/api/generate", """
                {"model":"%s","prompt":"%s","options":{"temperature":0,"num_predict":10}}""".formatted(TestServer.MIX, prompt));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("application/x-ndjson", r.headers().firstValue("Content-Type").orElse(""));
        String[] lines = r.body().split("\n");
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < lines.length; i++) {
            JsonNode o = TestServer.json(lines[i]);
            assertEquals(i == lines.length - 1, o.path("done").asBoolean(), lines[i]);
            text.append(o.path("response").asText());
        }
        JsonNode last = TestServer.json(lines[lines.length - 1]);
        assertEquals("", last.path("response").asText());
        assertEquals(10, last.path("eval_count").asInt());
        assertEquals(TestServer.expectedChat(TestServer.MIX, null, prompt, 10), text.toString());
    }

    @Test
    void chatWithHistoryAndSystem() throws Exception {
        HttpResponse<String> r = ts.post("/api/chat", """
                {"model":"%s","stream":false,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}],
                 "options":{"temperature":0,"num_predict":9}}""".formatted(TestServer.GQA));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode o = TestServer.json(r.body());
        assertEquals("assistant", o.path("message").path("role").asText());
        assertEquals(TestServer.expectedChat(TestServer.GQA, "Be brief.", "Hello", 9), o.path("message").path("content").asText());
        // a stream gives the same text
        r = ts.post("/api/chat", """
                {"model":"%s","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}],
                 "options":{"temperature":0,"num_predict":9}}""".formatted(TestServer.GQA));
        StringBuilder sb = new StringBuilder();
        for (String line : r.body().split("\n")) sb.append(TestServer.json(line).path("message").path("content").asText());
        assertEquals(o.path("message").path("content").asText(), sb.toString());
    }

    @Test
    void ollamaStoreParamsAndSystemApply() throws Exception {
        // the manifest says temperature 0, num_predict 7 and a SYSTEM: a request without options gets them
        HttpResponse<String> r = ts.post("/api/generate", """
                {"model":"tiny","prompt":"Hello","stream":false}""");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode o = TestServer.json(r.body());
        assertEquals(7, o.path("eval_count").asInt());
        assertEquals(TestServer.expectedChat(TestServer.GQA, TestServer.STORE_SYSTEM, "Hello", 7), o.path("response").asText());
        // the request's options win over the params
        o = TestServer.json(ts.post("/api/generate", """
                {"model":"tiny:latest","prompt":"Hello","stream":false,"options":{"num_predict":3}}""").body());
        assertEquals(3, o.path("eval_count").asInt());
        JsonNode show = TestServer.json(ts.post("/api/show", "{\"model\":\"tiny\"}").body());
        assertEquals(TestServer.STORE_SYSTEM, show.path("system").asText());
        assertTrue(show.path("parameters").asText().contains("num_predict"), show.path("parameters").asText());
        assertEquals("gemma3", show.path("model_info").path("general.architecture").asText());
        assertTrue(show.path("model_info").has("tokenizer.ggml.tokens") && show.path("model_info").path("tokenizer.ggml.tokens").isNull());
    }

    @Test
    void stopStringsAndDoneReasonStop() throws Exception {
        String full = TestServer.expectedChat(TestServer.GQA, null, "Tell me about the sea", 12);
        String stop = full.substring(full.length() - 3); // " ro" or whatever the model repeats
        JsonNode o = TestServer.json(ts.post("/api/generate", """
                {"model":"%s","prompt":"Tell me about the sea","stream":false,"options":{"temperature":0,"num_predict":12,"stop":[%s]}}"""
                .formatted(TestServer.GQA, Json.MAPPER.writeValueAsString(stop))).body());
        assertEquals("stop", o.path("done_reason").asText());
        assertFalse(o.path("response").asText().contains(stop));
        assertEquals(full.substring(0, full.indexOf(stop)), o.path("response").asText());
    }

    @Test
    void rawGenerateEqualsRunRaw() throws Exception {
        JsonNode o = TestServer.json(ts.post("/api/generate", """
                {"model":"%s","prompt":"Once upon a time","raw":true,"stream":false,"options":{"temperature":0,"num_predict":8}}"""
                .formatted(TestServer.MIX)).body());
        assertEquals(TestServer.expectedRaw(TestServer.MIX, "Once upon a time", 8), o.path("response").asText());
    }

    @Test
    void loadUnloadAndPs() throws Exception {
        JsonNode o = TestServer.json(ts.post("/api/generate", "{\"model\":\"" + TestServer.MIX + "\"}").body());
        assertEquals("load", o.path("done_reason").asText());
        JsonNode ps = TestServer.json(ts.get("/api/ps").body());
        boolean found = false;
        for (JsonNode m : ps.path("models")) {
            if (m.path("name").asText().equals(TestServer.MIX + ":latest")) {
                found = true;
                assertTrue(m.path("size").asLong() > 0);
                assertTrue(m.path("expires_at").asText().startsWith("20"), m.toString());
                assertTrue(m.path("context_length").asInt() > 0);
            }
        }
        assertTrue(found, ps.toString());
        o = TestServer.json(ts.post("/api/chat", "{\"model\":\"" + TestServer.MIX + "\",\"messages\":[],\"keep_alive\":0}").body());
        assertEquals("unload", o.path("done_reason").asText());
        assertFalse(ts.get("/api/ps").body().contains(TestServer.MIX), "unloaded");
    }

    /** Every way /api/chat's messages can be wrong, and its exact message (the parser is shared with OpenAI's API). */
    @Test
    void badMessagesAreNamedExactly() throws Exception {
        String[][] cases = {
                {"\"x\"", "field 'messages' must be an array, got a string"},
                {"[1]", "field 'messages[0]' must be an object, got a number"},
                {"[{\"content\":\"x\"}]", "field 'messages[0].role' is required"},
                {"[{\"role\":5}]", "field 'role' must be a string, got a number"},
                {"[{\"role\":\"user\",\"content\":\"x\",\"tool_calls\":[{}]}]",
                        "tool_calls (function calling) in messages[0] is not supported by jgemma serve yet"},
                {"[{\"role\":\"tool\",\"content\":\"x\"}]", "role 'tool' (function calling) in messages[0] is not supported by jgemma serve yet"},
                {"[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"bot\",\"content\":\"y\"}]",
                        "field 'messages[1].role' must be system, user or assistant, got 'bot'"},
                {"[{\"role\":\"developer\",\"content\":\"x\"}]", "field 'messages[0].role' must be system, user or assistant, got 'developer'"},
                {"[{\"role\":\"user\",\"content\":5}]", "field 'content' must be a string, got a number"},
                {"[{\"role\":\"user\",\"content\":\"x\",\"images\":\"abc\"}]",
                        "field 'messages[0].images' must be an array of base64 strings, got a string"},
                {"[{\"role\":\"user\",\"content\":\"x\",\"images\":[7]}]", "field 'messages[0].images[0]' must be a base64 string, got a number"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = ts.post("/api/chat", "{\"model\":\"" + TestServer.GQA + "\",\"stream\":false,\"messages\":" + c[0] + "}");
            assertEquals(400, r.statusCode(), c[0] + " -> " + r.body());
            assertEquals(c[1], TestServer.json(r.body()).path("error").asText(), c[0]);
        }
    }

    @Test
    void unsupportedFeaturesAreNamed() throws Exception {
        String m = TestServer.GQA;
        String[][] cases = {
                {"/api/generate", "{\"model\":\"" + m + "\",\"prompt\":\"x\",\"format\":\"json\"}", "format"},
                {"/api/generate", "{\"model\":\"" + m + "\",\"prompt\":\"x\",\"suffix\":\"y\"}", "suffix"},
                {"/api/chat", "{\"model\":\"" + m + "\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\"}]}", "tools"},
                {"/api/chat", "{\"model\":\"" + m + "\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"format\":{\"type\":\"object\"}}", "format"},
                {"/api/generate", "{\"model\":\"" + m + "\",\"prompt\":\"x\",\"options\":{\"mirostat\":2}}", "mirostat"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = ts.post(c[0], c[1]);
            assertEquals(400, r.statusCode(), c[1]);
            String err = TestServer.json(r.body()).path("error").asText();
            assertTrue(err.contains(c[2]) && err.contains("not supported"), err);
        }
        // images are supported now (#17); bytes that are not an image are a 400 naming the field
        HttpResponse<String> img = ts.post("/api/generate", "{\"model\":\"" + m + "\",\"prompt\":\"x\",\"images\":[\"aGVsbG8=\"]}");
        assertEquals(400, img.statusCode(), img.body());
        assertTrue(TestServer.json(img.body()).path("error").asText().contains("images[0]"), img.body());
        for (String path : List.of("/api/pull", "/api/push", "/api/create", "/api/embed")) {
            HttpResponse<String> r = ts.post(path, "{\"model\":\"x\"}");
            assertEquals(501, r.statusCode(), path);
            assertTrue(TestServer.json(r.body()).path("error").asText().contains("not supported"), r.body());
        }
    }

    @Test
    void corsAsOllama() throws Exception {
        java.net.http.HttpRequest pre = java.net.http.HttpRequest.newBuilder(ts.uri("/api/chat"))
                .method("OPTIONS", java.net.http.HttpRequest.BodyPublishers.noBody())
                .header("Origin", "http://localhost:3000").header("Access-Control-Request-Method", "POST").build();
        HttpResponse<String> r = ts.http.send(pre, HttpResponse.BodyHandlers.ofString());
        assertEquals(204, r.statusCode());
        assertEquals("http://localhost:3000", r.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
        assertTrue(r.headers().firstValue("Access-Control-Allow-Headers").orElse("").contains("Authorization"));
        java.net.http.HttpRequest tags = java.net.http.HttpRequest.newBuilder(ts.uri("/api/tags")).header("Origin", "app://obsidian.md").build();
        r = ts.http.send(tags, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertEquals("app://obsidian.md", r.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
        java.net.http.HttpRequest evil = java.net.http.HttpRequest.newBuilder(ts.uri("/api/tags")).header("Origin", "https://evil.example").build();
        r = ts.http.send(evil, HttpResponse.BodyHandlers.ofString());
        assertEquals(403, r.statusCode());
        assertTrue(r.headers().firstValue("Access-Control-Allow-Origin").isEmpty());
        assertTrue(TestServer.json(r.body()).path("error").asText().contains("origin"));
    }

    @Test
    void errorsHaveOllamasShapeAndStatus() throws Exception {
        HttpResponse<String> r = ts.post("/api/generate", "{\"model\":\"nope:1b\",\"prompt\":\"x\"}");
        assertEquals(404, r.statusCode());
        assertEquals("model 'nope:1b' not found", TestServer.json(r.body()).path("error").asText());
        r = ts.post("/api/chat", "{\"model\":\"" + TestServer.GQA + "\",\"messages\":\"hi\"}");
        assertEquals(400, r.statusCode());
        assertTrue(TestServer.json(r.body()).path("error").asText().contains("messages"));
        r = ts.get("/api/generate");
        assertEquals(405, r.statusCode());
        r = ts.get("/api/nothing");
        assertEquals(404, r.statusCode());
        assertTrue(TestServer.json(r.body()).has("error"));
    }
}
