package org.jgemma.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.jgemma.api.ChatSession;
import org.jgemma.api.Model;
import org.jgemma.api.ModelOptions;
import org.jgemma.api.TokenListener;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Load: 32 concurrent streaming chats all complete with their single-request greedy text; 1000 sequential requests
 * leave the server where it was (no new KV caches, RSS back near its post-load baseline). Speeds are not asserted
 * (tools/serve-bench.sh measures them).
 */
class LoadTest {
    static TestServer ts;

    @BeforeAll
    static void start() throws Exception {
        ts = new TestServer(ServerConfig.defaults().withCachePrompt(false).withParallel(4).withQueue(64));
    }

    @AfterAll
    static void stop() throws Exception {
        ts.close();
    }

    static final String[] PROMPTS = {"Hello", "Tell me about the sea", "Why is the sky blue?", "Write a poem", "What is 2+2?",
            "Name three colors", "Once upon a time", "Explain gravity", "Good morning", "How are you?", "List some fruits",
            "Say something", "Count to ten", "Describe a cat", "What is Java?", "Tell me a joke"};

    @Test
    void thirtyTwoConcurrentStreamingChats() throws Exception {
        int n = 32, tokens = 12;
        List<String> models = new ArrayList<>(), prompts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            models.add(i % 2 == 0 ? TestServer.GQA : TestServer.MIX);
            prompts.add(PROMPTS[i % PROMPTS.length]);
        }
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < n; i++) expected.add(null);
        for (String model : List.of(TestServer.GQA, TestServer.MIX)) { // one chat per model, reset between prompts
            try (Model m = Model.open(TestServer.modelFile(model), ModelOptions.defaults().withBackend("cpu"));
                 ChatSession chat = m.newChat(null)) {
                for (int i = 0; i < n; i++) {
                    if (!models.get(i).equals(model)) continue;
                    chat.reset();
                    StringBuilder sb = new StringBuilder();
                    chat.send(prompts.get(i), TestServer.greedy(tokens), TokenListener.text(sb::append));
                    expected.set(i, sb.toString());
                }
            }
        }
        long[] st0 = ts.server.stepStatistics();
        long t0 = System.nanoTime();
        List<CompletableFuture<String>> got = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String body = "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":%s}],\"options\":{\"temperature\":0,\"num_predict\":%d}}"
                    .formatted(models.get(i), Json.MAPPER.writeValueAsString(prompts.get(i)), tokens);
            HttpRequest req = HttpRequest.newBuilder(ts.uri("/api/chat")).timeout(Duration.ofSeconds(300))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build();
            got.add(ts.http.sendAsync(req, HttpResponse.BodyHandlers.ofLines()).thenApply(r -> {
                if (r.statusCode() != 200) return "HTTP " + r.statusCode();
                StringBuilder sb = new StringBuilder();
                try (Stream<String> lines = r.body()) {
                    for (String line : (Iterable<String>) lines::iterator) {
                        JsonNode o = TestServer.json(line);
                        if (o.has("error")) return "error " + o;
                        sb.append(o.path("message").path("content").asText());
                    }
                } catch (IOException e) {
                    return "unreadable: " + e;
                }
                return sb.toString();
            }));
        }
        for (int i = 0; i < n; i++) assertEquals(expected.get(i), got.get(i).get(), "chat " + i + " (" + models.get(i) + ", " + prompts.get(i) + ")");
        long[] st1 = ts.server.stepStatistics();
        System.err.printf("LoadTest: %d concurrent streaming chats (%d tokens each, --parallel 4) in %.1f s; %d steps, %d decode rows%n",
                n, tokens, (System.nanoTime() - t0) / 1e9, st1[0] - st0[0], st1[1] - st0[1]);
    }

    @Test
    void thousandSequentialRequestsLeaveMemoryAtBaseline() throws Exception {
        int n = Integer.getInteger("jgemma.server.sequential", 1000);
        String body = "{\"model\":\"" + TestServer.GQA + "\",\"prompt\":\"Hi\",\"raw\":true,\"stream\":false,\"options\":{\"num_predict\":2,\"temperature\":0}}";
        for (int i = 0; i < 50; i++) assertEquals(200, ts.post("/api/generate", body).statusCode()); // load, warm up
        int sessions = ts.server.sessionsCreated();
        long backend0 = ts.server.backendBytes();
        long rss0 = rss(), heap0 = heapAfterGc();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            HttpResponse<String> r = ts.post(i % 2 == 0 ? "/api/generate" : "/v1/completions", i % 2 == 0 ? body
                    : "{\"model\":\"" + TestServer.GQA + "\",\"prompt\":\"Hi\",\"max_tokens\":2,\"temperature\":0}");
            assertEquals(200, r.statusCode(), r.body());
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        long rss1 = rss(), heap1 = heapAfterGc();
        long backend1 = ts.server.backendBytes();
        System.err.printf("LoadTest: %d sequential requests in %.1f s (%.1f ms each); RSS %d -> %d MiB, heap after GC %d -> %d MiB,"
                + " backend bytes %d -> %d, sessions %d -> %d%n", n, secs, secs * 1000 / n, rss0 >> 20, rss1 >> 20, heap0 >> 20,
                heap1 >> 20, backend0, backend1, sessions, ts.server.sessionsCreated());
        assertEquals(backend0, backend1, "the backend holds what it held after load and warm-up");
        assertEquals(sessions, ts.server.sessionsCreated(), "no KV cache made per request");
        assertTrue(heap1 < heap0 + (16 << 20), "heap after GC: " + (heap0 >> 20) + " -> " + (heap1 >> 20) + " MiB");
        if (rss0 > 0) assertTrue(rss1 < rss0 + (96 << 20), "RSS: " + (rss0 >> 20) + " -> " + (rss1 >> 20) + " MiB");
    }

    static long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Resident set size from /proc (0 where there is none). */
    static long rss() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) return 0;
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D+", "")) * 1024;
        }
        return 0;
    }
}
