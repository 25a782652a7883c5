package org.jgemma.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jgemma.api.ChatSession;
import org.jgemma.api.GenerationOptions;
import org.jgemma.api.Model;
import org.jgemma.api.ModelOptions;
import org.jgemma.api.Session;
import org.jgemma.api.TokenListener;
import org.jgemma.sampling.SamplerConfig;

/**
 * A server on a free loopback port over the tiny fixture models (models/fixtures: random weights, the first 1024
 * entries of the real Gemma 3 vocabulary, so text prompts tokenize), plus an Ollama store made in a temporary folder
 * whose manifest names the tinygqa file with params and system layers. Expected greedy texts come from the engine
 * exactly as {@code jgemma run --temperature 0 -n N} makes them (a chat with the model's template, or raw).
 */
final class TestServer implements AutoCloseable {
    static final String GQA = "gemma3-tinygqa-q4_k_m";
    static final String MIX = "gemma3-tinymix-q4_k_m";
    static final String STORE_MODEL = "tiny:latest"; // the Ollama store's model: tinygqa with params + system layers
    static final String STORE_SYSTEM = "You are a tiny test model.";

    final JGemmaServer server;
    final Path store;
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    private static final Map<String, String> expected = new HashMap<>();

    static Path fixtures() {
        return Path.of(System.getProperty("jgemma.fixtures", "../models/fixtures"));
    }

    static Path modelFile(String name) {
        return fixtures().resolve(name.contains("tinygqa") ? "tinygqa" : "tinymix").resolve(name + ".gguf");
    }

    TestServer(ServerConfig cfg) throws IOException {
        this.store = Files.createTempDirectory("jgemma-ollama-store");
        makeStore(store);
        this.server = JGemmaServer.start(cfg.withHost("127.0.0.1").withPort(0).withBackend("cpu")
                .withModelDirs(List.of(fixtures().resolve("tinygqa"), fixtures().resolve("tinymix")))
                .withOllamaRoots(List.of(store)));
    }

    /**
     * Prompt caching off: every request is evaluated cold, as {@code jgemma run} evaluates it, so greedy texts can be
     * compared exactly even when tests repeat a prompt (a reused prefix re-evaluates the last prompt token alone, and
     * a random-weights model has near-ties that a different batch split can flip; see CachePromptTest).
     */
    TestServer() throws IOException {
        this(ServerConfig.defaults().withParallel(4).withQueue(64).withCachePrompt(false));
    }

    /** An Ollama store: manifests/registry.ollama.ai/library/tiny/latest naming the tinygqa blob, params and system. */
    static void makeStore(Path root) throws IOException {
        Path blobs = Files.createDirectories(root.resolve("blobs"));
        byte[] model = Files.readAllBytes(modelFile(GQA));
        byte[] params = "{\"stop\":[\"<end_of_turn>\"],\"temperature\":0,\"num_predict\":7}".getBytes(StandardCharsets.UTF_8);
        byte[] system = STORE_SYSTEM.getBytes(StandardCharsets.UTF_8);
        String dm = ModelCatalog.sha256(model), dp = ModelCatalog.sha256(params), ds = ModelCatalog.sha256(system);
        Files.write(blobs.resolve("sha256-" + dm), model);
        Files.write(blobs.resolve("sha256-" + dp), params);
        Files.write(blobs.resolve("sha256-" + ds), system);
        String manifest = """
                {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
                 "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:%s","size":2},
                 "layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:%s","size":%d},
                           {"mediaType":"application/vnd.ollama.image.params","digest":"sha256:%s","size":%d},
                           {"mediaType":"application/vnd.ollama.image.system","digest":"sha256:%s","size":%d}]}
                """.formatted(dp, dm, model.length, dp, params.length, ds, system.length);
        Path dir = Files.createDirectories(root.resolve("manifests/registry.ollama.ai/library/tiny"));
        Files.writeString(dir.resolve("latest"), manifest);
    }

    URI uri(String path) {
        return server.uri().resolve(path);
    }

    String base() {
        return server.uri().toString();
    }

    HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(String s) throws IOException {
        return Json.MAPPER.readTree(s);
    }

    /**
     * What {@code jgemma run --temperature 0 -n maxTokens MODEL PROMPT} prints (without its final newline):
     * a chat with the model's template and {@code system} (null: none), greedy.
     */
    static synchronized String expectedChat(String model, String system, String prompt, int maxTokens) throws IOException {
        String key = "chat|" + model + "|" + system + "|" + prompt + "|" + maxTokens;
        String v = expected.get(key);
        if (v != null) return v;
        try (Model m = Model.open(modelFile(model), ModelOptions.defaults().withBackend("cpu"));
             ChatSession chat = m.newChat(system)) {
            StringBuilder sb = new StringBuilder();
            chat.send(prompt, greedy(maxTokens), TokenListener.text(sb::append));
            v = sb.toString();
        }
        expected.put(key, v);
        return v;
    }

    /** What {@code jgemma run --raw --temperature 0 -n maxTokens MODEL PROMPT} prints. */
    static synchronized String expectedRaw(String model, String prompt, int maxTokens) throws IOException {
        String key = "raw|" + model + "|" + prompt + "|" + maxTokens;
        String v = expected.get(key);
        if (v != null) return v;
        try (Model m = Model.open(modelFile(model), ModelOptions.defaults().withBackend("cpu")); Session s = m.newSession()) {
            StringBuilder sb = new StringBuilder();
            s.generate(prompt, greedy(maxTokens), TokenListener.text(sb::append));
            v = sb.toString();
        }
        expected.put(key, v);
        return v;
    }

    /** RunCommand's options with --temperature 0 (its other sampling defaults do not matter for argmax). */
    static GenerationOptions greedy(int maxTokens) {
        return new GenerationOptions(new SamplerConfig(0f, 40, 0.95f, 0.05f, 0, 64, 1f, 0f, 0f, SamplerConfig.RANDOM_SEED),
                maxTokens, List.of(), true);
    }

    @Override
    public void close() throws IOException {
        server.close();
        try (var walk = Files.walk(store)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
