package org.jgemma.vision;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import org.jgemma.backend.Backend;
import org.jgemma.backend.reference.ReferenceBackend;
import org.jgemma.gguf.GgufFile;
import org.jgemma.model.Gemma3Model;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.Test;

/**
 * The fixture's chat prompt with image 2 and 8 greedy steps, as llama-mtmd-cli runs it (fixture README: text chunk
 * causal, the 16 image embeddings in one non-causal batch, the rest of the prompt, then one token per step), against
 * llama.cpp's and HF's logits: rms <= 0.02 of each row's std and the same 8 greedy tokens.
 *
 * <p>The text model is the committed stand-in made by tools/vision/make_text_fixture.py: the fixture's weights, with the
 * token_embd (= tied output) rows outside a kept set S zeroed (S = the prompt, both references' greedy tokens, each
 * reference row's top 512 and 2048 random ids); logits are compared at the ids of S only, and the argmax over S
 * (which holds each reference row's top 512) is the greedy token. The reference's full-row std comes from the full files.
 * A backend module subclasses this and overrides {@link #createBackend}.
 */
public class VisionLogitsTest {

    protected Backend createBackend() {
        return new ReferenceBackend();
    }

    record Refs(int nPrompt, int nGen, int nVocab, int rows, int[] tokens, int[] hfGreedy, int[] s, Ref llama, Ref hf) {}

    record Ref(float[] std, float[] max, int[] argmax, float[][] logits) {}

    static Refs refs() {
        ByteBuffer b = VisionRefs.bytes("vision/image2_224x224.logits-rows.bin");
        int nPrompt = b.getInt(), nGen = b.getInt(), nVocab = b.getInt(), rows = b.getInt(), ns = b.getInt();
        int[] tokens = ints(b, nPrompt + nGen), hfGreedy = ints(b, nGen), s = ints(b, ns);
        Ref[] refs = new Ref[2];
        for (int r = 0; r < 2; r++) {
            float[] std = floats(b, rows), max = floats(b, rows);
            int[] argmax = ints(b, rows);
            float[][] lg = new float[rows][];
            for (int i = 0; i < rows; i++) lg[i] = floats(b, ns);
            refs[r] = new Ref(std, max, argmax, lg);
        }
        return new Refs(nPrompt, nGen, nVocab, rows, tokens, hfGreedy, s, refs[0], refs[1]);
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

    static final int IMAGE_SOFT_TOKEN = 262144;

    @Test
    void chatPromptWithImageMatchesLlamaCppAndHf() throws Exception {
        Refs r = refs();
        float[][] image;
        try (GgufFile mm = GgufFile.open(Fixtures.file("vision/gemma3v-tiny-mmproj-f32.gguf"))) {
            image = VisionModel.load(mm).encode(RgbImage.read(Fixtures.file("vision/image2_224x224.png")), ImagePreprocessor.Mode.PAD);
        }
        try (Backend backend = createBackend(); GgufFile f = GgufFile.open(Fixtures.file("vision/gemma3v-text-rows.gguf"))) {
            Gemma3Model model = Gemma3Model.load(f, backend, new Gemma3Model.Options(128, 64, false));
            assertEquals(r.nVocab(), model.vocabSize());
            try (Gemma3Model.Session s = model.newSession()) {
                int[] t = r.tokens();
                int img = 0;
                while (t[img] != IMAGE_SOFT_TOKEN) img++;                      // 5: <bos> <start_of_turn> user \n <start_of_image>
                assertEquals(255999, t[img - 1]);
                assertEquals(256000, t[img + image.length]);
                float[] logits = new float[r.nVocab()];
                s.forward(t, 0, img, logits);                                  // text chunk, causal
                s.forwardImage(image);                                         // 16 image tokens, non-causal
                s.forward(t, img + image.length, r.nPrompt() - img - image.length, logits);
                int[] greedy = new int[r.nGen()];
                for (int k = 0; k < r.rows(); k++) {
                    int[] sIds = r.s();
                    float[] ours = new float[sIds.length];
                    for (int i = 0; i < sIds.length; i++) ours[i] = logits[sIds[i]];
                    int best = 0;
                    for (int i = 1; i < sIds.length; i++) if (ours[i] > ours[best]) best = i;
                    for (var named : new Object[][] {{"llama.cpp", r.llama()}, {"HF", r.hf()}}) {
                        Ref ref = (Ref) named[1];
                        double rms = VisionRefs.rms(ours, ref.logits()[k]);
                        float max = VisionRefs.maxAbs(ours, ref.logits()[k]);
                        System.err.printf("%s row %d vs %s: rms %.3g (%.2g of the row's std %.3f), max %.3g, argmax %d / ref %d%n",
                                backend.name(), k, named[0], rms, rms / ref.std()[k], ref.std()[k], max, sIds[best], ref.argmax()[k]);
                        assertTrue(rms <= 0.02 * ref.std()[k], named[0] + " row " + k + ": rms " + rms + " > 0.02 x std " + ref.std()[k]);
                        assertEquals(ref.argmax()[k], sIds[best], named[0] + " row " + k + ": argmax");
                    }
                    if (k < r.nGen()) {
                        greedy[k] = sIds[best];
                        s.forward(new int[] {greedy[k]}, 0, 1, logits);
                    }
                }
                assertArrayEquals(java.util.Arrays.copyOfRange(t, r.nPrompt(), t.length), greedy, "llama.cpp's 8 greedy tokens");
                assertArrayEquals(r.hfGreedy(), greedy, "HF's greedy tokens");
            }
            model.close();
        }
    }

    @Test
    void causalImageAttentionWouldNotMatch() throws Exception {
        // the bidirectional image block matters: run the image causally (as plain tokens would be) and row 0 moves away
        Refs r = refs();
        float[][] image;
        try (GgufFile mm = GgufFile.open(Fixtures.file("vision/gemma3v-tiny-mmproj-f32.gguf"))) {
            image = VisionModel.load(mm).encode(VisionRefs.pixels("image2_224x224.llamacpp"));
        }
        try (Backend backend = createBackend(); GgufFile f = GgufFile.open(Fixtures.file("vision/gemma3v-text-rows.gguf"))) {
            Gemma3Model model = Gemma3Model.load(f, backend, new Gemma3Model.Options(128, 64, false));
            try (Gemma3Model.Session s = model.newSession()) {
                int[] t = r.tokens();
                float[] logits = new float[r.nVocab()];
                s.forward(t, 0, 5, logits);
                for (float[] row : image) s.forwardImage(new float[][] {row}); // one token at a time: each sees only the earlier ones
                s.forward(t, 21, r.nPrompt() - 21, logits);
                int[] sIds = r.s();
                float[] ours = new float[sIds.length];
                for (int i = 0; i < sIds.length; i++) ours[i] = logits[sIds[i]];
                double rms = VisionRefs.rms(ours, r.llama().logits()[0]);
                System.err.printf("causal image: rms %.3g vs llama.cpp (std %.3f)%n", rms, r.llama().std()[0]);
                assertTrue(rms > 0.02 * r.llama().std()[0], "a causal image block should not match, rms " + rms);
            }
            model.close();
        }
    }
}
