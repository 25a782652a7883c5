package org.jgemma.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** Models loaded on first use, unloaded after their keep-alive, evicted to make room, refused when they cannot fit. */
class ModelRegistryTest {
    static String gen(String model, String keepAlive) {
        return "{\"model\":\"" + model + "\",\"prompt\":\"Hi\",\"stream\":false,\"options\":{\"num_predict\":1}"
                + (keepAlive == null ? "" : ",\"keep_alive\":" + keepAlive) + "}";
    }

    static String loaded(TestServer ts) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (JsonNode m : TestServer.json(ts.get("/api/ps").body()).path("models")) sb.append(m.path("name").asText()).append(' ');
        return sb.toString().strip();
    }

    @Test
    void keepAliveExpiresAndMaxLoadedEvicts() throws Exception {
        try (TestServer ts = new TestServer(ServerConfig.defaults().withParallel(1).withMaxLoaded(1).withCachePrompt(false))) {
            JsonNode first = TestServer.json(ts.post("/api/generate", gen(TestServer.GQA, "\"1s\"")).body());
            assertTrue(first.path("load_duration").asLong() > 0, "the first request loads the model");
            JsonNode again = TestServer.json(ts.post("/api/generate", gen(TestServer.GQA, "\"1s\"")).body());
            assertEquals(0, again.path("load_duration").asLong(), "loaded already");
            assertEquals(TestServer.GQA + ":latest", loaded(ts));
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!loaded(ts).isEmpty() && System.nanoTime() < deadline) Thread.sleep(100);
            assertEquals("", loaded(ts), "unloaded after its keep-alive");
            // --max-loaded 1: loading a second model unloads the idle first one
            assertEquals(200, ts.post("/api/generate", gen(TestServer.GQA, "-1")).statusCode());
            assertEquals(200, ts.post("/api/generate", gen(TestServer.MIX, null)).statusCode());
            assertEquals(TestServer.MIX + ":latest", loaded(ts));
        }
    }

    @Test
    void aModelThatCannotFitIsRefusedWithTheReason() throws Exception {
        try (TestServer ts = new TestServer(ServerConfig.defaults().withParallel(1).withMaxMemoryBytes(1 << 20))) {
            HttpResponse<String> r = ts.post("/api/generate", gen(TestServer.GQA, null));
            assertEquals(503, r.statusCode(), r.body());
            String err = TestServer.json(r.body()).path("error").asText();
            assertTrue(err.contains("cannot load model") && err.contains("budget"), err);
            assertFalse(loaded(ts).contains(TestServer.GQA));
        }
    }
}
