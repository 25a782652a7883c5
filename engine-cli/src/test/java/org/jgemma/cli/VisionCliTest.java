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
    void logitsWithAnImageWriteTheFixtureLayout(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("l.bin");
        Result r = run("logits", VisionFixture.model().toString(), "--prompt", "Describe the image.", "--image",
                VisionFixture.image("image2_224x224").toString(), "--gen", "8", "--out", out.toString(), "--backend", "cpu");
        assertEquals(0, r.code(), r.err());
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(Files.readAllBytes(out)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int np = b.getInt(), ng = b.getInt(), nv = b.getInt();
        assertEquals(31, np);
        assertEquals(8, ng);
        assertEquals(262144, nv);
        assertEquals(12 + 4 * 39 + 4L * 9 * nv, Files.size(out));
        int[] tokens = new int[np + ng];
        for (int i = 0; i < tokens.length; i++) tokens[i] = b.getInt();
        int[] head = {2, 105, 2364, 107, 255999};
        for (int i = 0; i < 5; i++) assertEquals(head[i], tokens[i]);
        for (int i = 5; i < 21; i++) assertEquals(262144, tokens[i]);
        assertEquals(256000, tokens[21]);
        assertEquals(107, tokens[30]);
        int[] argmax = new int[9];
        for (int row = 0; row < 9; row++) {
            float best = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < nv; j++) {
                float v = b.getFloat();
                if (v > best) { best = v; argmax[row] = j; }
            }
        }
        assertEquals(java.util.Arrays.toString(VisionFixture.LLAMA_CPP_GREEDY), java.util.Arrays.toString(java.util.Arrays.copyOf(argmax, 8)));
        assertEquals(78040, argmax[8]); // the fixture README: row 8's argmax
        assertEquals(java.util.Arrays.toString(VisionFixture.LLAMA_CPP_GREEDY), java.util.Arrays.toString(java.util.Arrays.copyOfRange(tokens, 31, 39)));
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
