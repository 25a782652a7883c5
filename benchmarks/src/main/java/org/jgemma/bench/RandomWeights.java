package org.jgemma.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;

/**
 * Seeded random weight tensors in valid GGML block layouts: random quant bytes, with every fp16 scale field
 * (positions from ggml-common.h, shared FACTS.md §2.1) set to a small finite value so dot products stay finite.
 */
final class RandomWeights {
    private RandomWeights() {}

    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Byte offsets of the fp16 scale fields inside one block. */
    static int[] halfFields(GgmlType t) {
        return switch (t) {
            case Q4_0, Q5_0, Q8_0 -> new int[] {0};
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q2_K -> new int[] {80, 82};
            case Q3_K -> new int[] {108};
            case Q6_K -> new int[] {208};
            default -> new int[0];
        };
    }

    /** A tensor of {@code rows} rows of {@code cols} elements ({@code ne = [cols, rows]}). */
    static GgufTensorInfo tensor(String name, GgmlType type, long cols, long rows, long seed) {
        long bytes = type.byteSize(cols) * rows;
        MemorySegment seg = Arena.ofAuto().allocate(bytes, 64);
        SplittableRandom r = new SplittableRandom(seed);
        switch (type) {
            case F32 -> {
                for (long i = 0; i < bytes / 4; i++) seg.set(F32, 4 * i, (float) (r.nextDouble(-1, 1) * 0.05));
            }
            case F16 -> {
                for (long i = 0; i < bytes / 2; i++) seg.set(F16, 2 * i, Float.floatToFloat16((float) (r.nextDouble(-1, 1) * 0.05)));
            }
            case BF16 -> {
                for (long i = 0; i < bytes / 2; i++) {
                    seg.set(F16, 2 * i, (short) (Float.floatToRawIntBits((float) (r.nextDouble(-1, 1) * 0.05)) >>> 16));
                }
            }
            default -> {
                for (long i = 0; i < bytes; i += 8) {
                    long v = r.nextLong();
                    for (int b = 0; b < 8 && i + b < bytes; b++) seg.set(ValueLayout.JAVA_BYTE, i + b, (byte) (v >>> (8 * b)));
                }
                int[] fields = halfFields(type);
                for (long blk = 0; blk < bytes / type.typeSize; blk++) {
                    for (int f : fields) {
                        seg.set(F16, blk * type.typeSize + f, Float.floatToFloat16((float) r.nextDouble(0.001, 0.01)));
                    }
                }
            }
        }
        return new GgufTensorInfo(name, type, new long[] {cols, rows}, 0, 0, bytes, seg);
    }

    static float[] activations(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }
}
