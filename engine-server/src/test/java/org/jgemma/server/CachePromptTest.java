package org.jgemma.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * With prompt caching (the default), a client that sends its whole conversation each turn has only the new part
 * evaluated: the slot whose KV cache holds the longest prefix serves it. {@code "cache_prompt": false} evaluates
 * everything. (Texts are not compared with a cold run here: a different batch split may flip a near-tie of the
 * random-weights model, as llama.cpp documents for its server's cache_prompt.)
 */
class CachePromptTest {
    @Test
    void secondTurnEvaluatesOnlyWhatIsNew() throws Exception {
        try (TestServer ts = new TestServer(ServerConfig.defaults().withParallel(2))) {
            String first = "{\"model\":\"" + TestServer.GQA + "\",\"stream\":false,\"options\":{\"temperature\":0,\"num_predict\":6},"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"Tell me about the sea\"}]}";
            JsonNode a = TestServer.json(ts.post("/api/chat", first).body());
            int full = a.path("prompt_eval_count").asInt();
            String reply = a.path("message").path("content").asText();
            String second = "{\"model\":\"" + TestServer.GQA + "\",\"stream\":false,%s\"options\":{\"temperature\":0,\"num_predict\":6},"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"Tell me about the sea\"},{\"role\":\"assistant\",\"content\":"
                    + Json.MAPPER.writeValueAsString(reply) + "},{\"role\":\"user\",\"content\":\"And the sky?\"}]}";
            JsonNode b = TestServer.json(ts.post("/api/chat", second.formatted("")).body());
            JsonNode cold = TestServer.json(ts.post("/api/chat", second.formatted("\"cache_prompt\":false,")).body());
            int all = cold.path("prompt_eval_count").asInt();
            assertTrue(all > full, "the whole conversation: " + all);
            assertTrue(b.path("prompt_eval_count").asInt() < all - full / 2,
                    "reused the first turn's cache: evaluated " + b.path("prompt_eval_count").asInt() + " of " + all);
            assertEquals(6, b.path("eval_count").asInt());
            assertTrue(ts.server.sessionsCreated() <= 2, "two slots at most: " + ts.server.sessionsCreated());
        }
    }
}
