package org.jgemma.ggml;

import java.lang.foreign.MemorySegment;

/**
 * Reference (scalar) dequantization of every GGML format real gemma3 files use (F32, F16, BF16, Q4_0, Q4_1, Q5_0,
 * Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) plus the activation formats Q8_1 and Q8_K, exactly as
 * ggml/src/ggml-quants.c :: dequantize_row_* (shared FACTS.md §2.2): same formulas, same float rounding order, so
 * the results are bit-identical to ggml's and to gguf-py's {@code gguf.quants.dequantize}. The slow twin fast
 * kernels are tested against. One class per block layout ({@code BlockQ4_K} ...) holds the details.
 */
public final class Dequantize {
    private Dequantize() {}

    /**
     * Dequantizes {@code n} elements (a multiple of the block size) starting at byte {@code srcOffset} of {@code src}
     * (which must be the start of a block) into {@code dst[dstOff ..]}.
     *
     * @throws UnsupportedOperationException naming the type, for a type this engine cannot read (e.g. IQ2_XXS)
     */
    public static void dequantizeRow(GgmlType type, MemorySegment src, long srcOffset, float[] dst, int dstOff, int n) {
        if (n % type.blockSize != 0) {
            throw new IllegalArgumentException(type + ": " + n + " elements is not a multiple of the block size " + type.blockSize);
        }
        int nb = n / type.blockSize;
        switch (type) {
            case F32 -> MemorySegment.copy(src, Blocks.F32, srcOffset, dst, dstOff, n);
            case F16 -> {
                for (int i = 0; i < n; i++) dst[dstOff + i] = Float.float16ToFloat(src.get(Blocks.I16, srcOffset + 2L * i));
            }
            case BF16 -> { // ggml_compute_bf16_to_fp32
                for (int i = 0; i < n; i++) dst[dstOff + i] = Float.intBitsToFloat((src.get(Blocks.I16, srcOffset + 2L * i) & 0xFFFF) << 16);
            }
            case Q4_0 -> BlockQ4_0.dequantize(src, srcOffset, dst, dstOff, nb);
            case Q4_1 -> BlockQ4_1.dequantize(src, srcOffset, dst, dstOff, nb);
            case Q5_0 -> BlockQ5_0.dequantize(src, srcOffset, dst, dstOff, nb);
            case Q5_1 -> BlockQ5_1.dequantize(src, srcOffset, dst, dstOff, nb);
            case Q8_0 -> BlockQ8_0.dequantize(src, srcOffset, dst, dstOff, nb);
            case Q8_1 -> BlockQ8_1.dequantize(src, srcOffset, dst, dstOff, nb);
            case Q2_K -> BlockQ2_K.dequantize(src, srcOffset, dst, dstOff, nb);
            case Q3_K -> BlockQ3_K.dequantize(src, srcOffset, dst, dstOff, nb);
            case Q4_K -> BlockQ4_K.dequantize(src, srcOffset, dst, dstOff, nb);
            case Q5_K -> BlockQ5_K.dequantize(src, srcOffset, dst, dstOff, nb);
            case Q6_K -> BlockQ6_K.dequantize(src, srcOffset, dst, dstOff, nb);
            case Q8_K -> BlockQ8_K.dequantize(src, srcOffset, dst, dstOff, nb);
            default -> throw new UnsupportedOperationException("dequantization of GGML type " + type + " (id " + type.id
                    + ") is not implemented");
        }
    }

    /** Dequantizes a whole tensor's data ({@code n} elements from offset 0 of {@code src}) into a new array. */
    public static float[] dequantize(GgmlType type, MemorySegment src, long n) {
        if (n > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("tensor of " + n + " elements is too large for one array");
        float[] out = new float[(int) n];
        dequantizeRow(type, src, 0, out, 0, (int) n);
        return out;
    }

    /** Whether {@link #dequantizeRow} reads this type. */
    public static boolean canDequantize(GgmlType type) {
        return switch (type) {
            case F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K -> true;
            default -> false;
        };
    }
}
