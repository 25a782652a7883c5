package org.jgemma.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jgemma.api.Model;
import org.jgemma.api.ModelOptions;
import org.jgemma.testing.Fixtures;
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

    /**
     * {@code logits --prompt --image} writes the vision fixtures' layout, and its rows are llama.cpp's and HF's: the same
     * token ids (image positions as 262144) and, at the ids the committed stand-in model keeps (S, see
     * tools/vision/make_text_fixture.py; every other output row is zero), rms <= 0.02 of each reference row's std and the
     * same argmax, over all 9 rows (the last prompt position and the 8 greedy steps).
     */
    @Test
    void logitsWithAnImageMatchLlamaCppAndHf(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("l.bin");
        Result r = run("logits", VisionFixture.model().toString(), "--prompt", "Describe the image.", "--image",
                VisionFixture.image("image2_224x224").toString(), "--gen", "8", "--out", out.toString(), "--backend", "cpu");
        assertEquals(0, r.code(), r.err());
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
        int np = b.getInt(), ng = b.getInt(), nv = b.getInt();
        assertEquals(12 + 4L * (np + ng) + 4L * (1 + ng) * nv, Files.size(out)); // 1 + n_gen rows, not n_prompt + n_gen
        int[] tokens = ints(b, np + ng);
        float[][] rows = new float[1 + ng][];
        for (int k = 0; k <= ng; k++) rows[k] = floats(b, nv);

        ByteBuffer f = ByteBuffer.wrap(Files.readAllBytes(Fixtures.file("vision/image2_224x224.logits-rows.bin"))).order(ByteOrder.LITTLE_ENDIAN);
        int rnp = f.getInt(), rng = f.getInt(), rnv = f.getInt(), nRows = f.getInt(), ns = f.getInt();
        assertEquals(List.of(rnp, rng, rnv), List.of(np, ng, nv));
        int[] refTokens = ints(f, rnp + rng);
        ints(f, rng); // HF's greedy tokens (the same as llama.cpp's here, checked by the argmax below)
        int[] s = ints(f, ns);
        assertArrayEquals(refTokens, tokens, "token ids, image positions as <image_soft_token>");
        for (String ref : new String[] {"llama.cpp", "HF"}) {
            float[] std = floats(f, nRows), max = floats(f, nRows);
            int[] argmax = ints(f, nRows);
            for (int k = 0; k < nRows; k++) {
                float[] theirs = floats(f, ns);
                double sum = 0;
                int best = 0;
                for (int i = 0; i < ns; i++) {
                    double d = rows[k][s[i]] - theirs[i];
                    sum += d * d;
                    if (rows[k][s[i]] > rows[k][s[best]]) best = i;
                }
                double rms = Math.sqrt(sum / ns);
                assertTrue(rms <= 0.02 * std[k], ref + " row " + k + ": rms " + rms + " > 0.02 x std " + std[k]);
                assertEquals(argmax[k], s[best], ref + " row " + k + ": argmax");
            }
        }
        assertEquals(78040, argmaxOf(rows[ng])); // the fixture README: row 8's argmax
        for (int k = 0; k < ng; k++) assertEquals(VisionFixture.LLAMA_CPP_GREEDY[k], tokens[np + k]);
    }

    static int argmaxOf(float[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    static int[] ints(ByteBuffer b, int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = b.getInt();
        return a;
    }

    static float[] floats(ByteBuffer b, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = b.getFloat();
        return a;
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
