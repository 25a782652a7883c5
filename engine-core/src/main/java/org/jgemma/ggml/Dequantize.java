package org.jgemma.ggml;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Reference (scalar) dequantization of every GGML format this engine reads, exactly as
 * ggml/src/ggml-quants.c :: dequantize_row_* (see shared FACTS.md §2.2). The slow twin that fast kernels are
 * tested against.
 */
public final class Dequantize {
    private Dequantize() {}

    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Dequantizes {@code n} elements (a multiple of the block size) starting at byte {@code srcOffset} of {@code src}
     * (which must be the start of a block) into {@code dst[dstOff ..]}.
     */
    public static void dequantizeRow(GgmlType type, MemorySegment src, long srcOffset, float[] dst, int dstOff, int n) {
        if (n % type.blockSize != 0) {
            throw new IllegalArgumentException(type + ": " + n + " elements is not a multiple of the block size " + type.blockSize);
        }
        switch (type) {
            case F32 -> MemorySegment.copy(src, F32, srcOffset, dst, dstOff, n);
            case F16 -> {
                for (int i = 0; i < n; i++) dst[dstOff + i] = Float.float16ToFloat(src.get(I16, srcOffset + 2L * i));
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) dst[dstOff + i] = Float.intBitsToFloat((src.get(I16, srcOffset + 2L * i) & 0xFFFF) << 16);
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long o = srcOffset + 34L * b;
                    float d = Float.float16ToFloat(src.get(I16, o));
                    for (int j = 0; j < 32; j++) dst[dstOff + 32 * b + j] = src.get(ValueLayout.JAVA_BYTE, o + 2 + j) * d;
                }
            }
            default -> throw new UnsupportedOperationException("dequantization of " + type + " is not implemented");
        }
    }

    /** Dequantizes a whole tensor's data (all rows) into a new array. */
    public static float[] dequantize(GgmlType type, MemorySegment src, long n) {
        if (n > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("tensor of " + n + " elements is too large for one array");
        float[] out = new float[(int) n];
        dequantizeRow(type, src, 0, out, 0, (int) n);
        return out;
    }
}
