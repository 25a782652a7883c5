package org.jgemma.vision;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import org.jgemma.testing.Fixtures;

/** Reads the vision fixtures (models/fixtures/vision, copied from the shared reference fixtures; layouts in their README). */
final class VisionRefs {
    private VisionRefs() {}

    /** A {@code *.pixels.bin}: int32 C, H, W then float32[C][H][W]. */
    static float[] pixels(String name) {
        ByteBuffer b = bytes("vision/" + name + ".pixels.bin");
        int c = b.getInt(), h = b.getInt(), w = b.getInt();
        if (c != 3 || h != 224 || w != 224) throw new IllegalStateException(name + ": " + c + "x" + h + "x" + w);
        float[] out = new float[c * h * w];
        b.asFloatBuffer().get(out);
        return out;
    }

    /** A {@code *.embd.bin}: int32 n_tokens, n_embd then float32[n_tokens][n_embd]. */
    static float[][] embd(String name) {
        ByteBuffer b = bytes("vision/" + name + ".embd.bin");
        int n = b.getInt(), d = b.getInt();
        float[][] out = new float[n][d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) out[i][j] = b.getFloat(8 + 4 * (i * d + j));
        return out;
    }

    static ByteBuffer bytes(String rel) {
        try {
            return ByteBuffer.wrap(Files.readAllBytes(Fixtures.file(rel))).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static float maxAbs(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    static double rms(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) (a[i] - b[i]) * (a[i] - b[i]);
        return Math.sqrt(s / a.length);
    }

    static double rms(float[] a) {
        double s = 0;
        for (float v : a) s += (double) v * v;
        return Math.sqrt(s / a.length);
    }

    static float[] flat(float[][] m) {
        float[] out = new float[m.length * m[0].length];
        for (int i = 0; i < m.length; i++) System.arraycopy(m[i], 0, out, i * m[0].length, m[0].length);
        return out;
    }
}
