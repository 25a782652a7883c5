package org.jgemma.backend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;

/**
 * Seeded random weight tensors of any GGML type, in native memory like a GGUF mapping. Quantized blocks are random bytes
 * (every bit pattern of the packed quants and sub-block scales) with their fp16 super-scales set to sane values, as
 * llama.cpp's test-backend-ops does with random data; float types hold N(0, 0.5²) values.
 */
public final class TestWeights {
    private TestWeights() {}

    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Byte offsets of the fp16 scale fields inside one block (ggml-common.h block_* layouts). */
    static int[] fp16Fields(GgmlType t) {
        return switch (t) {
            case Q4_0, Q5_0, Q8_0 -> new int[] {0};
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};   // d, m / d, dmin
            case Q2_K -> new int[] {80, 82};                     // after scales[16], qs[64]
            case Q3_K -> new int[] {108};                        // after hmask[32], qs[64], scales[12]
            case Q6_K -> new int[] {208};                        // after ql[128], qh[64], scales[16]
            default -> throw new IllegalArgumentException("no random block recipe for " + t);
        };
    }

    /** A {@code [cols, rows]} tensor ({@code rows} rows of {@code cols}) named {@code name}; cols must fit the block size. */
    public static GgufTensorInfo random(String name, GgmlType type, int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        long bytes = type.byteSize((long) cols) * rows;
        MemorySegment seg = Arena.ofAuto().allocate(bytes, 64);
        long n = (long) rows * cols;
        switch (type) {
            case F32 -> { for (long i = 0; i < n; i++) seg.set(F32, 4 * i, (float) (rnd.nextGaussian() * 0.5)); }
            case F16 -> { for (long i = 0; i < n; i++) seg.set(I16, 2 * i, Float.floatToFloat16((float) (rnd.nextGaussian() * 0.5))); }
            case BF16 -> {
                for (long i = 0; i < n; i++) {
                    int bits = Float.floatToRawIntBits((float) (rnd.nextGaussian() * 0.5));
                    seg.set(I16, 2 * i, (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16)); // round to nearest even
                }
            }
            default -> {
                byte[] raw = new byte[(int) bytes];
                rnd.nextBytes(raw);
                MemorySegment.copy(MemorySegment.ofArray(raw), 0, seg, 0, bytes);
                int[] fields = fp16Fields(type);
                for (long b = 0; b < bytes / type.typeSize; b++) {
                    for (int off : fields) {
                        float scale = (float) (0.002 + 0.02 * rnd.nextDouble());
                        seg.set(I16, b * type.typeSize + off, Float.floatToFloat16(scale));
                    }
                }
            }
        }
        return new GgufTensorInfo(name, type, rows == 1 ? new long[] {cols} : new long[] {cols, rows}, 0, 0, bytes, seg);
    }

    /** {@code n} seeded N(0, sd²) floats. */
    public static float[] gaussian(int n, double sd, long seed) {
        Random rnd = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextGaussian() * sd);
        return a;
    }
}
