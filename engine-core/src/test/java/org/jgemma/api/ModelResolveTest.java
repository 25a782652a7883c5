package org.jgemma.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.jgemma.ollama.OllamaStore;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** MODEL arguments: a file, or an Ollama reference resolved in a store laid out as Ollama writes it. */
class ModelResolveTest {
    static final String HEX = "3f0b0f2100071479f596b964f89f510f057ce397ea22f2833a0cfe029bfc2463";

    /** A fake Ollama store under {@code root} whose {@code model:tag} is the tiny fixture (manifest as in Ollama's server/manifest.go). */
    static Path fakeStore(Path root, String model, String tag) throws Exception {
        Path m = root.resolve("manifests/registry.ollama.ai/library").resolve(model).resolve(tag);
        Files.createDirectories(m.getParent());
        Files.writeString(m, """
                {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
                 "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:%s","size":487},
                 "layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:%s","size":1}]}
                """.formatted("d".repeat(64), HEX));
        Path blob = root.resolve("blobs/sha256-" + HEX);
        Files.createDirectories(blob.getParent());
        Files.copy(Fixtures.file("tinygqa/gemma3-tinygqa-q4_k_m.gguf"), blob);
        return blob;
    }

    @Test
    void filesComeFirstThenTheStore(@TempDir Path dir) throws Exception {
        Path blob = fakeStore(dir.resolve("store"), "jgemmatest", "tiny");
        OllamaStore store = new OllamaStore(List.of(dir.resolve("empty"), dir.resolve("store")));
        Path file = Fixtures.file("tinygqa/gemma3-tinygqa-q4_k_m.gguf");
        assertEquals(file, Model.resolve(file.toString(), store));
        assertEquals(blob, Model.resolve("jgemmatest:tiny", store));
    }

    @Test
    void aMissingReferenceListsTheStoresSearched(@TempDir Path dir) {
        OllamaStore store = new OllamaStore(List.of(dir.resolve("a"), dir.resolve("b")));
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Model.resolve("jgemmatest:nope", store));
        assertTrue(e.getMessage().contains(dir.resolve("a").toString()) && e.getMessage().contains(dir.resolve("b").toString()),
                e.getMessage());
        NoSuchFileException f = assertThrows(NoSuchFileException.class, () -> Model.resolve(dir.resolve("x.gguf").toString(), store));
        assertEquals(dir.resolve("x.gguf").toString(), f.getFile());
    }

    @Test
    void openAcceptsAReferenceFromTheStandardStore(@TempDir Path home) throws Exception {
        fakeStore(home.resolve(".ollama/models"), "jgemmatest", "tiny"); // OllamaStore.standard(): ~/.ollama/models
        String saved = System.getProperty("user.home");
        System.setProperty("user.home", home.toString());
        try (Model m = Model.open("jgemmatest:tiny", ModelOptions.defaults().withBackend("reference").withContextSize(32))) {
            assertEquals(1024, m.vocabSize());
        } finally {
            System.setProperty("user.home", saved);
        }
    }
}
