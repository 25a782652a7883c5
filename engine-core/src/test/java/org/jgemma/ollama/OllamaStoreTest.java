package org.jgemma.ollama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OllamaStoreTest {
    static final String HEX = "60e05f2100071479f596b964f89f510f057ce397ea22f2833a0cfe029bfc2463";

    /** A store laid out as Ollama writes it (manifest format as in Ollama's server/manifest.go). */
    static Path store(Path root, String model, String tag, boolean withBlob) throws IOException {
        Path m = root.resolve("manifests/registry.ollama.ai/library").resolve(model).resolve(tag);
        Files.createDirectories(m.getParent());
        Files.writeString(m, """
                {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
                 "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:%s","size":487},
                 "layers":[{"mediaType":"application/vnd.ollama.image.template","digest":"sha256:%s","size":1},
                           {"mediaType":"application/vnd.ollama.image.model","digest":"sha256:%s","size":4}]}
                """.formatted("d".repeat(64), "e".repeat(64), HEX));
        Path blob = root.resolve("blobs/sha256-" + HEX);
        Files.createDirectories(blob.getParent());
        if (withBlob) Files.writeString(blob, "GGUF");
        Files.writeString(root.resolve("blobs/sha256-" + "e".repeat(64)), "{{ .Prompt }}"); // the template layer
        return blob;
    }

    @Test
    void resolvesModelLayerBlob(@TempDir Path dir) throws IOException {
        Path blob = store(dir, "gemma3", "4b-it-q4_K_M", true);
        OllamaStore s = new OllamaStore(List.of(dir.resolve("nowhere"), dir));
        assertEquals(blob, s.resolve("gemma3:4b-it-q4_K_M").orElseThrow());
        assertTrue(s.resolve("gemma3:1b").isEmpty());
    }

    @Test
    void defaultTagIsLatest(@TempDir Path dir) throws IOException {
        Path blob = store(dir, "gemma3", "latest", true);
        assertEquals(blob, new OllamaStore(List.of(dir)).resolve("gemma3").orElseThrow());
    }

    @Test
    void missingBlobIsAClearError(@TempDir Path dir) throws IOException {
        store(dir, "gemma3", "1b", false);
        IOException e = assertThrows(IOException.class, () -> new OllamaStore(List.of(dir)).resolve("gemma3:1b"));
        assertTrue(e.getMessage().contains("ollama pull gemma3:1b"), e.getMessage());
    }

    @Test
    void parsesReferences() {
        assertArrayEquals(new String[] {"registry.ollama.ai", "library", "gemma3", "latest"}, OllamaStore.parse("gemma3"));
        assertArrayEquals(new String[] {"registry.ollama.ai", "user", "m", "q8"}, OllamaStore.parse("user/m:q8"));
        assertArrayEquals(new String[] {"hf.co", "org", "m", "Q4_K_M"}, OllamaStore.parse("hf.co/org/m:Q4_K_M"));
        assertTrue(OllamaStore.looksLikeReference("gemma3:4b-it-q4_K_M"));
        assertFalse(OllamaStore.looksLikeReference("models/gemma-3-4b-it-Q4_K_M.gguf"));
    }
}
