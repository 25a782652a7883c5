package org.jgemma.vision;

/**
 * Turns an {@link RgbImage} into the vision tower's input: {@code float[3][size][size]} (CHW, RGB), resized to the
 * encoder's square size, rescaled by 1/255 and normalized with the model's mean and std.
 *
 * <p>Two resize modes, matching the two reference implementations:
 * <ul>
 *   <li>{@link Mode#PAD} (the default) is llama.cpp's (tools/mtmd/mtmd-image.cpp, {@code img_tool::resize} with
 *       {@code PAD_CEIL}, as {@code mtmd_image_preprocessor_fixed_size} runs it for PROJECTOR_TYPE_GEMMA3): keep the aspect
 *       ratio, scale = min(S/W, S/H), new size ceil(W*scale) x ceil(H*scale) (capped at S), llama.cpp's own bilinear
 *       (align-corners ratios (src-1)/(dst-1), float lerp, truncated to uint8, no antialiasing), centred on black at
 *       offset (S-new)/2, then {@code x/255} and {@code (x - mean)/std} in float. It is the default because it is what
 *       llama.cpp and Ollama (which runs llama.cpp's mtmd) give the released GGUF models, and it does not distort.</li>
 *   <li>{@link Mode#STRETCH} is Hugging Face's {@code Gemma3ImageProcessor} (PIL backend): resize to S x S ignoring the
 *       aspect ratio with PIL's BILINEAR (Pillow src/libImaging/Resample.c: a triangle filter widened by the scale when
 *       downscaling, i.e. antialiased; coefficients rounded to 22-bit fixed point; horizontal pass then vertical, each
 *       rounded to uint8), then rescale and normalize.</li>
 * </ul>
 * An image already S x S is not resized in either mode, so both give the same tensor.
 */
public final class ImagePreprocessor {

    /** How a non-square image is fitted to the square encoder input. */
    public enum Mode {
        /** Keep the aspect ratio and pad with black (llama.cpp / Ollama). */
        PAD,
        /** Stretch to the square (Hugging Face transformers). */
        STRETCH;

        /** {@code pad} or {@code stretch}, case-insensitive. */
        public static Mode parse(String s) {
            return switch (s.toLowerCase(java.util.Locale.ROOT)) {
                case "pad" -> PAD;
                case "stretch" -> STRETCH;
                default -> throw new IllegalArgumentException("image preprocessing '" + s + "' (expected pad or stretch)");
            };
        }
    }

    private ImagePreprocessor() {}

    /** The normalized CHW tensor {@code [3][size][size]} of {@code img}. */
    public static float[] preprocess(RgbImage img, int size, float[] mean, float[] std, Mode mode) {
        RgbImage r = resize(img, size, mode);
        float[] out = new float[3 * size * size];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    float v = (float) r.get(x, y, c) / 255.0f;                  // clip_image_f32::from_u8
                    out[(c * size + y) * size + x] = (v - mean[c]) / std[c];      // clip_image_f32::normalize
                }
            }
        }
        return out;
    }

    /** The uint8 image fitted to {@code size x size}. */
    public static RgbImage resize(RgbImage img, int size, Mode mode) {
        if (size < 1) throw new IllegalArgumentException("target size " + size);
        if (img.width() == size && img.height() == size) return img;
        if (mode == Mode.STRETCH) return PillowResample.bilinear(img, size, size);
        float scale = Math.min((float) size / img.width(), (float) size / img.height());
        int nw = Math.min((int) Math.ceil(img.width() * scale), size);
        int nh = Math.min((int) Math.ceil(img.height() * scale), size);
        RgbImage small = bilinearLlama(img, Math.max(nw, 1), Math.max(nh, 1));
        byte[] out = new byte[3 * size * size]; // black
        int ox = (size - small.width()) / 2, oy = (size - small.height()) / 2;
        for (int y = 0; y < small.height(); y++) {
            System.arraycopy(small.rgb(), 3 * y * small.width(), out, 3 * ((y + oy) * size + ox), 3 * small.width());
        }
        return new RgbImage(size, size, out);
    }

    /** llama.cpp's {@code img_tool::resize_bilinear} (tools/mtmd/mtmd-image.cpp), in the same float operations. */
    static RgbImage bilinearLlama(RgbImage src, int tw, int th) {
        int sw = src.width(), sh = src.height();
        float xRatio = tw > 1 ? (float) (sw - 1) / (tw - 1) : 0.0f;
        float yRatio = th > 1 ? (float) (sh - 1) / (th - 1) : 0.0f;
        byte[] out = new byte[3 * tw * th];
        for (int y = 0; y < th; y++) {
            for (int x = 0; x < tw; x++) {
                float px = x * xRatio, py = y * yRatio;
                int x0 = Math.min((int) px, sw - 1), y0 = Math.min((int) py, sh - 1);
                int x1 = Math.min(x0 + 1, sw - 1), y1 = Math.min(y0 + 1, sh - 1);
                float xf = px - x0, yf = py - y0;
                for (int c = 0; c < 3; c++) {
                    float top = lerp(src.get(x0, y0, c), src.get(x1, y0, c), xf);
                    float bottom = lerp(src.get(x0, y1, c), src.get(x1, y1, c), xf);
                    out[(y * tw + x) * 3 + c] = (byte) (int) lerp(top, bottom, yf); // static_cast<uint8_t>(float): truncation
                }
            }
        }
        return new RgbImage(tw, th, out);
    }

    private static float lerp(float s, float e, float t) {
        return s + (e - s) * t;
    }
}
