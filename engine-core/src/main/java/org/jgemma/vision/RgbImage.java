package org.jgemma.vision;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * An 8-bit RGB image: {@code rgb[(y * width + x) * 3 + c]}, the layout of llama.cpp's {@code clip_image_u8}. Decoded
 * with javax.imageio (PNG, JPEG, BMP, GIF: the formats the JDK reads; WebP with an ImageIO WebP plug-in, see
 * {@link #formats()}); alpha is dropped (llama.cpp's stb_image load with
 * 3 channels does the same), grey is expanded. Untrusted input: the header's size is checked before any pixel is read.
 */
public record RgbImage(int width, int height, byte[] rgb) {

    /** Most pixels an image may have (llama.cpp has no limit; 64 Mpx = 192 MiB of RGB keeps a hostile header from an OOM). */
    public static final long MAX_PIXELS = 64L << 20;

    public RgbImage {
        if (width < 1 || height < 1 || (long) width * height > MAX_PIXELS) {
            throw new ImageFormatException("image of " + width + "x" + height + " pixels (1 .. " + MAX_PIXELS + " pixels)");
        }
        if (rgb.length != 3L * width * height) {
            throw new IllegalArgumentException("rgb of " + rgb.length + " bytes, need 3*" + width + "*" + height);
        }
    }

    public int get(int x, int y, int c) { return rgb[(y * width + x) * 3 + c] & 0xFF; }

    /** Decodes an image file; an unreadable or unsupported file gives one {@link ImageFormatException} naming it. */
    public static RgbImage read(Path file) {
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > Integer.MAX_VALUE - 8) throw new ImageFormatException(file + ": image file of " + size + " bytes is too large");
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ImageFormatException(file + ": cannot read the image file: " + e.getMessage(), e);
        }
        try {
            return decode(bytes);
        } catch (ImageFormatException e) {
            throw new ImageFormatException(file + ": " + e.getMessage(), e);
        }
    }

    /** Decodes image file bytes (PNG, JPEG, BMP, GIF; WebP with a plug-in). */
    public static RgbImage decode(byte[] bytes) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new ImageFormatException("not an image in a supported format (" + formats() + "; " + bytes.length
                        + " bytes starting " + hex(bytes) + ")");
            }
            ImageReader r = readers.next();
            try {
                r.setInput(in, true, true);
                int w = r.getWidth(0), h = r.getHeight(0);
                if (w < 1 || h < 1 || (long) w * h > MAX_PIXELS) {
                    throw new ImageFormatException(r.getFormatName() + " image of " + w + "x" + h + " pixels (1 .. " + MAX_PIXELS + " pixels)");
                }
                return of(r.read(0));
            } finally {
                r.dispose();
            }
        } catch (ImageFormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) { // imageio throws IIOException, but also IndexOutOfBounds etc. on corrupt data
            throw new ImageFormatException("cannot decode the image (" + bytes.length + " bytes): " + e, e);
        }
    }

    /** The RGB pixels of {@code img} (sRGB as {@link BufferedImage#getRGB} gives them; alpha dropped). */
    public static RgbImage of(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight();
        if (w < 1 || h < 1 || (long) w * h > MAX_PIXELS) {
            throw new ImageFormatException("image of " + w + "x" + h + " pixels (1 .. " + MAX_PIXELS + " pixels)");
        }
        byte[] rgb = new byte[3 * w * h];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            img.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                int p = row[x], o = (y * w + x) * 3;
                rgb[o] = (byte) (p >> 16);
                rgb[o + 1] = (byte) (p >> 8);
                rgb[o + 2] = (byte) p;
            }
        }
        return new RgbImage(w, h, rgb);
    }

    /** Reads all of {@code in} and decodes it. */
    public static RgbImage read(InputStream in) throws IOException {
        return decode(in.readAllBytes());
    }

    /**
     * The formats javax.imageio reads here: the JDK's, and WebP when an ImageIO WebP plug-in is on the class path (the
     * CLI and the server bring TwelveMonkeys' {@code com.twelvemonkeys.imageio:imageio-webp}; engine-core does not).
     */
    static String formats() {
        return ImageIO.getImageReadersByFormatName("webp").hasNext() ? "PNG, JPEG, WebP, BMP, GIF"
                : "PNG, JPEG, BMP, GIF; WebP needs com.twelvemonkeys.imageio:imageio-webp on the class path";
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(8, b.length); i++) s.append(String.format("%02x", b[i] & 0xFF));
        return s.isEmpty() ? "(empty)" : s.toString();
    }
}
