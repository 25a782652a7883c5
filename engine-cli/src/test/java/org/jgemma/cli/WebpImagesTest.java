package org.jgemma.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Random;
import org.jgemma.api.Model;
import org.jgemma.api.ModelOptions;
import org.jgemma.testing.Fixtures;
import org.jgemma.testing.VisionFixture;
import org.jgemma.vision.ImageFormatException;
import org.jgemma.vision.RgbImage;
import org.junit.jupiter.api.Test;

/**
 * WebP images through the CLI's class path (TwelveMonkeys' imageio-webp, an ImageIO plug-in). The files were made with
 * libwebp 1.2.4's tools (models/fixtures/vision/README.md): a lossless copy of image2 must decode to the PNG's pixels
 * exactly; a lossy crop of image1 is compared with {@code dwebp -nofancy}, libwebp's decoder without its "fancy"
 * chroma upsampling (Ollama's Go decoder, golang.org/x/image/webp, has none either: it returns 4:2:0 YCbCr).
 */
class WebpImagesTest {

    @Test
    void losslessWebpIsThePngsPixels() {
        RgbImage webp = RgbImage.read(Fixtures.file("vision/image2_224x224.lossless.webp"));
        RgbImage png = RgbImage.read(VisionFixture.image("image2_224x224"));
        assertEquals(224, webp.width());
        assertEquals(224, webp.height());
        assertArrayEquals(png.rgb(), webp.rgb());
    }

    @Test
    void lossyWebpIsLibwebpsDecodeWithinRounding() {
        RgbImage webp = RgbImage.read(Fixtures.file("vision/image1_crop64x48.q75.webp"));
        RgbImage ref = RgbImage.read(Fixtures.file("vision/image1_crop64x48.q75.dwebp-nofancy.png"));
        assertEquals(64, webp.width());
        assertEquals(48, webp.height());
        long sum = 0;
        int max = 0;
        for (int i = 0; i < ref.rgb().length; i++) {
            int d = Math.abs((webp.rgb()[i] & 0xFF) - (ref.rgb()[i] & 0xFF));
            sum += d;
            max = Math.max(max, d);
        }
        double mean = (double) sum / ref.rgb().length;
        // measured: mean 0.74, max 9 (YCbCr -> RGB rounding); libwebp's default fancy upsampling is further off (mean 5.2)
        assertTrue(mean <= 1.0 && max <= 12, "mean |diff| " + mean + ", max " + max);
    }

    @Test
    void runWithAWebpImageGivesLlamaCppsAnswer() throws Exception {
        String expected;
        try (Model m = Model.open(VisionFixture.model(), ModelOptions.defaults().withBackend("reference").withContextSize(64))) {
            expected = m.detokenize(Arrays.copyOf(VisionFixture.LLAMA_CPP_GREEDY, 4));
        }
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), "run", VisionFixture.model().toString(), "Describe the image.",
                "--image", Fixtures.file("vision/image2_224x224.lossless.webp").toString(), "--temperature", "0", "-n", "4",
                "--backend", "cpu", "-c", "128");
        assertEquals(0, code, err.toString());
        assertEquals(expected, out.toString().stripTrailing());
    }

    @Test
    @org.junit.jupiter.api.Timeout(120)
    void damagedWebpFilesAreImageFormatErrors() throws Exception {
        // untrusted input: truncated and bit-flipped files end in a decoded image or one ImageFormatException, never another
        // exception type or a hang (seeded; both files)
        Random rnd = new Random(20261207);
        for (String name : new String[] {"vision/image2_224x224.lossless.webp", "vision/image1_crop64x48.q75.webp"}) {
            byte[] good = Files.readAllBytes(Fixtures.file(name));
            for (int i = 0; i < 150; i++) {
                byte[] b = i % 3 == 0 ? Arrays.copyOf(good, rnd.nextInt(good.length)) : good.clone();
                if (i % 3 != 0) for (int k = 0, n = 1 + rnd.nextInt(8); k < n; k++) b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
                try {
                    RgbImage img = RgbImage.decode(b);
                    assertTrue(img.width() > 0 && img.height() > 0);
                } catch (ImageFormatException e) {
                    assertEquals(1, e.getMessage().lines().count(), e.getMessage());
                }
            }
        }
    }
}
