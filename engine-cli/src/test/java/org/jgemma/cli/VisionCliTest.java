package org.jgemma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jgemma.api.Model;
import org.jgemma.api.ModelOptions;
import org.jgemma.testing.VisionFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jgemma run MODEL PROMPT --image F}, in-process, against llama-mtmd-cli's greedy answer on the vision fixture. */
class VisionCliTest {
    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void runWithAnImagePrintsLlamaCppsAnswer() throws Exception {
        Path model = VisionFixture.model();
        String expected;
        try (Model m = Model.open(model, ModelOptions.defaults().withBackend("reference").withContextSize(64))) {
            expected = m.detokenize(VisionFixture.LLAMA_CPP_GREEDY);
        }
        Result r = run("run", model.toString(), "Describe the image.", "--image", VisionFixture.image("image2_224x224").toString(),
                "--temperature", "0", "-n", "8", "--backend", "cpu", "-c", "128");
        assertEquals(0, r.code(), r.err());
        assertEquals(expected, r.out().stripTrailing().replace("\r", ""));
        // the projector named explicitly, and stretch preprocessing, also run
        Result s = run("run", model.toString(), "Describe the image.", "--image", VisionFixture.image("image1_300x200").toString(),
                "--mmproj", model.resolveSibling("gemma3v-tiny-mmproj-f32.gguf").toString(), "--image-preprocess", "stretch",
                "--temperature", "0", "-n", "2", "--backend", "cpu", "-c", "128");
        assertEquals(0, s.code(), s.err());
    }

    @Test
    void badImageFileIsOneClearError(@TempDir Path tmp) throws Exception {
        Path bad = tmp.resolve("bad.png");
        Files.writeString(bad, "not a png");
        Result r = run("run", VisionFixture.model().toString(), "hi", "--image", bad.toString(), "--backend", "cpu");
        assertTrue(r.code() != 0);
        assertTrue(r.err().contains("bad.png") && r.err().strip().lines().count() == 1, r.err());
        Result p = run("run", VisionFixture.model().toString(), "hi", "--image", bad.toString(), "--image-preprocess", "crop");
        assertEquals(2, p.code(), p.err());
    }
}
