package org.jgemma.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.jgemma.api.Model;
import org.jgemma.api.ModelOptions;
import org.jgemma.testing.Fixtures;
import org.jgemma.testing.VisionFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Images through both APIs (Ollama's {@code images} in /api/chat and /api/generate, OpenAI's {@code image_url} data
 * URLs): the vision fixture answers with llama-mtmd-cli's greedy tokens; bad images are 400s naming the field.
 */
class VisionServerTest {
    static JGemmaServer server;
    static String expected, b64;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static final int N = 4;
    /** A text-only model: no v.* / mm.* tensors and no mmproj next to it. */
    static final String TEXT_ONLY = "tinygqa/gemma3-tinygqa-q4_k_m";

    @BeforeAll
    static void start() throws Exception {
        Path model = VisionFixture.model();
        try (Model m = Model.open(model, ModelOptions.defaults().withBackend("reference").withContextSize(64))) {
            expected = m.detokenize(Arrays.copyOf(VisionFixture.LLAMA_CPP_GREEDY, N));
        }
        b64 = Base64.getEncoder().encodeToString(Files.readAllBytes(VisionFixture.image("image2_224x224")));
        server = JGemmaServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0).withBackend("cpu")
                .withModelDirs(List.of(model.getParent(), Fixtures.file(TEXT_ONLY + ".gguf").getParent())).withOllamaRoots(List.of()).withCachePrompt(false));
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    static HttpResponse<String> post(String path, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(server.uri().resolve(path)).timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(String s) throws Exception {
        return Json.MAPPER.readTree(s);
    }

    @Test
    void ollamaChatAndGenerateTakeImages() throws Exception {
        HttpResponse<String> r = post("/api/chat", """
                {"model":"gemma3v-tiny","stream":false,"options":{"temperature":0,"num_predict":%d,"num_ctx":128},
                 "messages":[{"role":"user","content":"Describe the image.","images":["%s"]}]}""".formatted(N, b64));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(expected, json(r.body()).path("message").path("content").asText());
        HttpResponse<String> g = post("/api/generate", """
                {"model":"gemma3v-tiny","stream":false,"prompt":"Describe the image.","images":["%s"],
                 "options":{"temperature":0,"num_predict":%d,"num_ctx":128}}""".formatted(b64, N));
        assertEquals(200, g.statusCode(), g.body());
        assertEquals(expected, json(g.body()).path("response").asText());
    }

    @Test
    void webpImagesToo() throws Exception { // the server's class path has TwelveMonkeys' ImageIO WebP plug-in
        String webp = Base64.getEncoder().encodeToString(Files.readAllBytes(Fixtures.file("vision/image2_224x224.lossless.webp")));
        HttpResponse<String> r = post("/v1/chat/completions", """
                {"model":"gemma3v-tiny","temperature":0,"max_tokens":%d,
                 "messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/webp;base64,%s"}},
                                                       {"type":"text","text":"Describe the image."}]}]}""".formatted(N, webp));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(expected, json(r.body()).path("choices").path(0).path("message").path("content").asText());
    }

    @Test
    void openAiChatTakesDataUrls() throws Exception {
        HttpResponse<String> r = post("/v1/chat/completions", """
                {"model":"gemma3v-tiny","temperature":0,"max_tokens":%d,
                 "messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,%s"}},
                                                       {"type":"text","text":"Describe the image."}]}]}""".formatted(N, b64));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(expected, json(r.body()).path("choices").path(0).path("message").path("content").asText());
    }

    @Test
    void badImagesAre400sNamingTheField() throws Exception {
        HttpResponse<String> a = post("/api/chat", """
                {"model":"gemma3v-tiny","stream":false,"messages":[{"role":"user","content":"x","images":["bm90IGFuIGltYWdl"]}]}""");
        assertEquals(400, a.statusCode(), a.body());
        assertTrue(a.body().contains("messages[0].images[0]"), a.body());
        HttpResponse<String> b = post("/api/generate", """
                {"model":"gemma3v-tiny","stream":false,"prompt":"x","images":["%%%%"]}""");
        assertEquals(400, b.statusCode(), b.body());
        assertTrue(b.body().contains("images[0]") && b.body().contains("base64"), b.body());
        HttpResponse<String> c = post("/v1/chat/completions", """
                {"model":"gemma3v-tiny","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}""");
        assertTrue(c.statusCode() >= 400 && c.statusCode() < 500 && c.body().contains("data: URLs"), c.body());
        HttpResponse<String> d = post("/v1/chat/completions", """
                {"model":"gemma3v-tiny","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,bm90IGFuIGltYWdl"}}]}]}""");
        assertEquals(400, d.statusCode(), d.body());
        assertTrue(d.body().contains("messages[0].content[0].image_url.url") && d.body().contains("not an image"), d.body());
        assertEquals("invalid_request_error", json(d.body()).path("error").path("type").asText(), d.body());
    }

    @Test
    void imagesToAModelWithoutAProjectorAre400s() throws Exception {
        String model = TEXT_ONLY.substring(TEXT_ONLY.indexOf('/') + 1);
        String why = "does not support vision";
        HttpResponse<String> a = post("/api/chat", """
                {"model":"%s","stream":false,"messages":[{"role":"user","content":"Describe the image.","images":["%s"]}]}""".formatted(model, b64));
        assertEquals(400, a.statusCode(), a.body());
        assertTrue(json(a.body()).path("error").asText().contains(why), a.body());
        HttpResponse<String> s = post("/api/chat", """
                {"model":"%s","messages":[{"role":"user","content":"Describe the image.","images":["%s"]}]}""".formatted(model, b64));
        assertEquals(400, s.statusCode(), s.body()); // streaming: refused before the first line
        assertTrue(json(s.body()).path("error").asText().contains(why), s.body());
        HttpResponse<String> g = post("/api/generate", """
                {"model":"%s","stream":false,"prompt":"Describe the image.","images":["%s"]}""".formatted(model, b64));
        assertEquals(400, g.statusCode(), g.body());
        assertTrue(json(g.body()).path("error").asText().contains(why), g.body());
        HttpResponse<String> o = post("/v1/chat/completions", """
                {"model":"%s","stream":true,"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,%s"}},
                 {"type":"text","text":"Describe the image."}]}]}""".formatted(model, b64));
        assertEquals(400, o.statusCode(), o.body());
        assertTrue(json(o.body()).path("error").path("message").asText().contains(why), o.body());
        assertEquals("invalid_request_error", json(o.body()).path("error").path("type").asText(), o.body());
        // the same model without images still answers
        HttpResponse<String> t = post("/api/chat", """
                {"model":"%s","stream":false,"options":{"num_predict":2},"messages":[{"role":"user","content":"Hi"}]}""".formatted(model));
        assertEquals(200, t.statusCode(), t.body());
    }

    @Test
    void theProjectorIsNoModelAndCountsInTheLoadedSize() throws Exception {
        Path model = VisionFixture.model();
        ModelCatalog catalog = new ModelCatalog(List.of(), List.of(model.getParent(), Fixtures.file(TEXT_ONLY + ".gguf").getParent()));
        List<String> names = catalog.scan().stream().map(ModelInfo::name).toList();
        assertTrue(names.contains("gemma3v-tiny:latest") && names.stream().noneMatch(n -> n.contains("mmproj")), names.toString());
        ServerConfig cfg = ServerConfig.defaults().withBackend("cpu").withContextSize(64).withParallel(2);
        org.jgemma.vision.VisionMemory tower;
        try (var f = org.jgemma.gguf.GgufFile.open(model.resolveSibling("gemma3v-tiny-mmproj-f32.gguf"))) {
            tower = org.jgemma.vision.VisionMemory.of(f);
        }
        ModelInfo info = catalog.find("gemma3v-tiny");
        try (ModelRunner r = ModelRunner.load(info, cfg)) { // /api/ps's size: the file, the KV caches, the mmproj and one image
            assertEquals(ModelRunner.estimateBytes(info, 64, 2) + tower.weightBytes() + tower.scratchBytes(), r.estimatedBytes());
        }
        ModelInfo text = catalog.find(TEXT_ONLY.substring(TEXT_ONLY.indexOf('/') + 1));
        try (ModelRunner r = ModelRunner.load(text, cfg)) {
            assertEquals(ModelRunner.estimateBytes(text, 64, 2), r.estimatedBytes());
        }
    }
}
