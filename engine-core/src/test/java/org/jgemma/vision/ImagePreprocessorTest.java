package org.jgemma.vision;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import org.jgemma.testing.Fixtures;
import org.jgemma.vision.ImagePreprocessor.Mode;
import org.junit.jupiter.api.Test;

/** Pixels against the fixtures' pixel tensors from llama.cpp (libmtmd) and HF transformers (Gemma3ImageProcessorPil). */
class ImagePreprocessorTest {
    static final float[] HALF = {0.5f, 0.5f, 0.5f};

    static float[] pixels(String png, Mode mode) {
        return ImagePreprocessor.preprocess(RgbImage.read(Fixtures.file("vision/" + png + ".png")), 224, HALF, HALF, mode);
    }

    @Test
    void padIsLlamaCppBitExact() {
        float[] ours = pixels("image1_300x200", Mode.PAD), ref = VisionRefs.pixels("image1_300x200.llamacpp");
        assertEquals(0f, VisionRefs.maxAbs(ours, ref), "max |ours - llama.cpp| over 3x224x224");
        // rows 0-36 and 187-223 are the black letterbox: -1 after normalization
        assertEquals(-1f, ours[0]);
        assertEquals(-1f, ours[36 * 224 + 100]);
        assertNotEquals(-1f, ours[37 * 224 + 100]);
    }

    @Test
    void stretchIsHfBitExact() {
        float[] ours = pixels("image1_300x200", Mode.STRETCH), ref = VisionRefs.pixels("image1_300x200.hf");
        assertEquals(0f, VisionRefs.maxAbs(ours, ref), "max |ours - HF| over 3x224x224");
    }

    @Test
    void squareImageIsNotResizedInEitherMode() {
        float[] ref = VisionRefs.pixels("image2_224x224.llamacpp"); // == HF's, bit for bit (fixture README)
        assertArrayEquals(ref, pixels("image2_224x224", Mode.PAD));
        assertArrayEquals(ref, pixels("image2_224x224", Mode.STRETCH));
    }

    @Test
    void bufferedImageGivesTheSamePixelsAsTheFile() {
        RgbImage file = RgbImage.read(Fixtures.file("vision/image1_300x200.png"));
        BufferedImage bi = new BufferedImage(file.width(), file.height(), BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < file.height(); y++) {
            for (int x = 0; x < file.width(); x++) {
                bi.setRGB(x, y, 0xFF000000 | file.get(x, y, 0) << 16 | file.get(x, y, 1) << 8 | file.get(x, y, 2));
            }
        }
        assertArrayEquals(file.rgb(), RgbImage.of(bi).rgb());
    }

    @Test
    void badImageBytesGiveOneClearError() {
        var e = assertThrows(ImageFormatException.class, () -> RgbImage.decode("hello, not an image".getBytes()));
        assertTrue(e.getMessage().contains("not an image"), e.getMessage());
        assertThrows(ImageFormatException.class, () -> RgbImage.decode(new byte[0]));
        byte[] png = RgbImage.class.getName().getBytes(); // garbage
        assertThrows(ImageFormatException.class, () -> RgbImage.decode(png));
        // a truncated PNG: the right magic, the data cut off
        byte[] real;
        try {
            real = java.nio.file.Files.readAllBytes(Fixtures.file("vision/image2_224x224.png"));
        } catch (java.io.IOException ex) {
            throw new java.io.UncheckedIOException(ex);
        }
        var t = assertThrows(ImageFormatException.class, () -> RgbImage.decode(java.util.Arrays.copyOf(real, 200)));
        assertNotNull(t.getMessage());
        assertThrows(ImageFormatException.class, () -> RgbImage.read(java.nio.file.Path.of("/nonexistent/x.png")));
    }

    @Test
    void modeParses() {
        assertEquals(Mode.PAD, Mode.parse("pad"));
        assertEquals(Mode.STRETCH, Mode.parse("STRETCH"));
        assertThrows(IllegalArgumentException.class, () -> Mode.parse("crop"));
    }
}
