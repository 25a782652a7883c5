package org.jgemma.ollama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.jgemma.api.GenerationOptions;
import org.jgemma.api.ModelOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Manifests with params, template, system and license layers, laid out as Ollama writes them (server/images.go). */
class ModelReferenceTest {
    /** The params layer of ollama.com/library/gemma3 (`ollama show gemma3 --parameters`: stop, temperature, top_k, top_p). */
    static final String GEMMA3_PARAMS = "{\"stop\":[\"<end_of_turn>\"],\"temperature\":1,\"top_k\":64,\"top_p\":0.95}";
    static final String GEMMA3_TEMPLATE = "{{- range $i, $_ := .Messages }}\n{{- $last := eq (len (slice $.Messages $i)) 1 }}...";

    /** Writes a manifest for library/NAME:TAG with one blob per {mediaType suffix, content}; returns the store root. */
    static Path store(Path root, String name, String tag, String[]... layers) throws Exception {
        StringBuilder json = new StringBuilder("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\"sha256:" + "d".repeat(64)
                + "\",\"size\":1},\"layers\":[");
        List<String> parts = new ArrayList<>();
        Files.createDirectories(root.resolve("blobs"));
        for (String[] l : layers) {
            byte[] bytes = l[1].getBytes(StandardCharsets.UTF_8);
            String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
            Files.write(root.resolve("blobs/sha256-" + hex), bytes);
            parts.add("{\"mediaType\":\"application/vnd.ollama.image." + l[0] + "\",\"digest\":\"sha256:" + hex + "\",\"size\":" + bytes.length + "}");
        }
        json.append(String.join(",", parts)).append("]}");
        Path m = root.resolve("manifests/registry.ollama.ai/library").resolve(name).resolve(tag);
        Files.createDirectories(m.getParent());
        Files.writeString(m, json);
        return root;
    }

    @Test
    void readsEveryLayer(@TempDir Path dir) throws Exception {
        store(dir, "gemma3", "4b", new String[] {"model", "GGUF-not-really"}, new String[] {"template", GEMMA3_TEMPLATE},
                new String[] {"license", "Gemma Terms of Use"}, new String[] {"params", GEMMA3_PARAMS},
                new String[] {"system", "You are terse."});
        ModelReference r = ModelReference.resolve("gemma3:4b", new OllamaStore(List.of(dir)));
        assertTrue(r.isOllama());
        assertEquals("gemma3:4b", r.name());
        assertEquals("GGUF-not-really", Files.readString(r.path()));
        assertEquals(Map.of("stop", List.of("<end_of_turn>"), "temperature", 1L, "top_k", 64L, "top_p", 0.95), r.params());
        assertEquals(GEMMA3_TEMPLATE, r.template());
        assertEquals("You are terse.", r.system());
        assertEquals(List.of("Gemma Terms of Use"), r.license());
    }

    @Test
    void aPlainFileHasNoLayers(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("m.gguf"), "GGUF");
        ModelReference r = ModelReference.resolve(f.toString(), new OllamaStore(List.of(dir)));
        assertFalse(r.isOllama());
        assertEquals(f, r.path());
        assertTrue(r.params().isEmpty());
        assertNull(r.system());
    }

    @Test
    void whatDoesNotResolveIsAnErrorNamingWhatWasSearched(@TempDir Path dir) {
        OllamaStore store = new OllamaStore(List.of(dir.resolve("a")));
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> ModelReference.resolve("gemma3", store));
        assertTrue(e.getMessage().contains(dir.resolve("a").toString()) && e.getMessage().contains("ollama pull gemma3"), e.getMessage());
        NoSuchFileException f = assertThrows(NoSuchFileException.class, () -> ModelReference.resolve("/nope/model", store));
        assertEquals("/nope/model", f.getFile());
        IOException d = assertThrows(IOException.class, () -> ModelReference.resolve(dir.toString(), store));
        assertTrue(d.getMessage().contains("is a directory"), d.getMessage());
        assertThrows(NoSuchFileException.class, () -> ModelReference.resolve("../x", store));
    }

    @Test
    void brokenLayersAreErrorsNamingTheFile(@TempDir Path dir) throws Exception {
        store(dir, "bad", "params", new String[] {"model", "x"}, new String[] {"params", "[1,2]"});
        IOException e = assertThrows(IOException.class, () -> ModelReference.resolve("bad:params", new OllamaStore(List.of(dir))));
        assertTrue(e.getMessage().contains("params layer is not a JSON object") && e.getMessage().contains("blobs"), e.getMessage());
        store(dir, "bad", "nomodel", new String[] {"params", "{}"});
        IOException m = assertThrows(IOException.class, () -> ModelReference.resolve("bad:nomodel", new OllamaStore(List.of(dir))));
        assertTrue(m.getMessage().contains("no layer of media type application/vnd.ollama.image.model"), m.getMessage());
        Path manifest = dir.resolve("manifests/registry.ollama.ai/library/bad/json");
        Files.writeString(manifest, "{not json");
        IOException j = assertThrows(IOException.class, () -> ModelReference.resolve("bad:json", new OllamaStore(List.of(dir))));
        assertTrue(j.getMessage().contains(manifest.toString()), j.getMessage());
    }

    @Test
    void paramsApplyOverTheDefaultsAndUnderTheUsersOptions(@TempDir Path dir) throws Exception {
        store(dir, "gemma3", "latest", new String[] {"model", "x"}, new String[] {"params", GEMMA3_PARAMS + " "});
        ModelReference r = ModelReference.resolve("gemma3", new OllamaStore(List.of(dir)));
        GenerationOptions g = OllamaOptions.apply(OllamaOptions.defaults(), r.params());
        assertEquals(1f, g.sampling().temperature());
        assertEquals(64, g.sampling().topK());
        assertEquals(0.95f, g.sampling().topP());
        assertEquals(0f, g.sampling().minP()); // Ollama's default min_p
        assertEquals(List.of("<end_of_turn>"), g.stop());
        GenerationOptions user = OllamaOptions.apply(g, Map.of("temperature", "0", "stop", List.of("x", "y"), "num_predict", 5));
        assertEquals(0f, user.sampling().temperature());
        assertEquals(64, user.sampling().topK());
        assertEquals(List.of("x", "y"), user.stop());
        assertEquals(5, user.maxTokens());
        ModelOptions mo = OllamaOptions.applyRunner(ModelOptions.defaults(), Map.of("num_ctx", 2048L, "num_thread", 3));
        assertEquals(2048, mo.contextSize());
        assertEquals(3, mo.threads());
    }

    @Test
    void badOptionsAreOneLineErrorsNamingTheOption() {
        for (Object[] c : new Object[][] {{"top_p", 7}, {"top_k", -3}, {"min_p", 2}, {"temperature", -1}, {"num_ctx", -5},
                {"repeat_penalty", 0}, {"top_k", 1.5}, {"top_k", "many"}, {"stop", 3}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> OllamaOptions.apply(OllamaOptions.defaults(), Map.of((String) c[0], c[1])), c[0] + "=" + c[1]);
            assertTrue(e.getMessage().contains("'" + c[0] + "'") && !e.getMessage().contains("\n"), e.getMessage());
        }
        IllegalArgumentException u = assertThrows(IllegalArgumentException.class,
                () -> OllamaOptions.apply(OllamaOptions.defaults(), Map.of("tempreature", 1)));
        assertTrue(u.getMessage().contains("unknown option 'tempreature'"), u.getMessage());
        // options Ollama has and this engine does not use are accepted and ignored, as Ollama's runner ignores them
        assertEquals(OllamaOptions.defaults(), OllamaOptions.apply(OllamaOptions.defaults(), Map.of("num_gpu", 99, "num_keep", 4)));
        assertEquals(List.of("a", "b"), OllamaOptions.parse("stop", List.of("a", "b")));
        assertEquals(0.5, OllamaOptions.parse("top_p", List.of("0.5")));
        assertThrows(IllegalArgumentException.class, () -> OllamaOptions.parse("top_p", List.of("2")));
    }

    @Test
    void listShowsModelsAsOllamaListNamesThem(@TempDir Path dir) throws Exception {
        store(dir, "gemma3", "4b", new String[] {"model", "12345"});
        store(dir, "gemma3", "broken", new String[] {"params", "{}"}); // no model layer: left out
        Path user = dir.resolve("manifests/registry.ollama.ai/someone/m/q8");
        Files.createDirectories(user.getParent());
        Files.copy(dir.resolve("manifests/registry.ollama.ai/library/gemma3/4b"), user);
        List<OllamaStore.Entry> l = new OllamaStore(List.of(dir, dir.resolve("missing"))).list();
        assertEquals(List.of("gemma3:4b", "someone/m:q8"), l.stream().map(OllamaStore.Entry::name).toList());
        assertEquals(5, l.getFirst().size());
    }
}
