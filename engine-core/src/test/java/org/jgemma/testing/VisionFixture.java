package org.jgemma.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufWriter;

/**
 * A loadable Gemma 3 vision model from the committed fixtures: the stand-in text model (models/fixtures/vision,
 * tools/vision/make_text_fixture.py) with the tokenizer of models/fixtures/gemma3-vocab.gguf (byte-identical to the
 * vision fixture's), and the mmproj copied next to it as llama.cpp names it, so it is found without being named.
 */
public final class VisionFixture {
    private VisionFixture() {}

    /** llama-mtmd-cli's 8 greedy tokens for "Describe the image." with image2_224x224.png (fixture README). */
    public static final int[] LLAMA_CPP_GREEDY = {26996, 235192, 124182, 3759, 171977, 124182, 76578, 24179};

    /** The model file (built once into target/fixture-cache/vision-chat, next to its mmproj). */
    public static synchronized Path model() {
        try {
            Path dir = Fixtures.cacheDir().resolve("vision-chat");
            Path model = dir.resolve("gemma3v-tiny.gguf");
            Path mmproj = dir.resolve("gemma3v-tiny-mmproj-f32.gguf");
            if (Files.exists(model) && Files.exists(mmproj)) return model;
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "model", ".tmp");
            try (GgufFile text = GgufFile.open(Fixtures.file("vision/gemma3v-text-rows.gguf"));
                 GgufFile vocab = GgufFile.open(Fixtures.file("gemma3-vocab.gguf"))) {
                GgufWriter w = new GgufWriter().putAll(text.metadata());
                vocab.metadata().forEach((k, v) -> { if (k.startsWith("tokenizer.")) w.put(k, v); });
                for (var t : text.tensors()) w.addTensor(t.name(), t.type(), t.ne(), t.data());
                w.write(tmp);
            }
            Files.copy(Fixtures.file("vision/gemma3v-tiny-mmproj-f32.gguf"), mmproj, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, model, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return model;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path image(String name) {
        return Fixtures.file("vision/" + name + ".png");
    }
}
