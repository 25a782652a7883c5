package org.jgemma.ggml;

import java.lang.foreign.MemorySegment;

/**
 * Reference (scalar) quantizers, bit-identical to ggml/src/ggml-quants.c :: quantize_row_*_ref, i.e. to what
 * llama-quantize writes for a file quantized without an importance matrix (llama-quant.cpp passes
 * {@code imatrix == nullptr}, and quantize_q4_K etc. then call the _ref functions). Also the activation formats the
 * CPU backend's quantized dot products use: Q8_0 (for Q4_0/Q5_0/Q8_0 weights), Q8_1 (Q4_1/Q5_1) and Q8_K (K-quants).
 * F16 and BF16 round to nearest even, as numpy's astype(float16) and gguf-py's fp32-to-bf16 do.
 */
public final class Quantize {
    private Quantize() {}

    /**
     * Quantizes {@code src[srcOff .. srcOff + n)} ({@code n} a multiple of the block size) into {@code type}'s blocks
     * at byte {@code dstOffset} of {@code dst} ({@code type.byteSize(n)} bytes).
     *
     * @throws UnsupportedOperationException naming the type, for a type without a reference quantizer here
     */
    public static void quantizeRow(GgmlType type, float[] src, int srcOff, MemorySegment dst, long dstOffset, int n) {
        if (n % type.blockSize != 0) {
            throw new IllegalArgumentException(type + ": " + n + " elements is not a multiple of the block size " + type.blockSize);
        }
        int nb = n / type.blockSize;
        switch (type) {
            case F32 -> MemorySegment.copy(src, srcOff, dst, Blocks.F32, dstOffset, n);
            case F16 -> {
                for (int i = 0; i < n; i++) dst.set(Blocks.I16, dstOffset + 2L * i, Float.floatToFloat16(src[srcOff + i]));
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) dst.set(Blocks.I16, dstOffset + 2L * i, toBf16(src[srcOff + i]));
            }
            case Q4_0 -> BlockQ4_0.quantize(src, srcOff, dst, dstOffset, nb);
            case Q4_1 -> BlockQ4_1.quantize(src, srcOff, dst, dstOffset, nb);
            case Q5_0 -> BlockQ5_0.quantize(src, srcOff, dst, dstOffset, nb);
            case Q5_1 -> BlockQ5_1.quantize(src, srcOff, dst, dstOffset, nb);
            case Q8_0 -> BlockQ8_0.quantize(src, srcOff, dst, dstOffset, nb);
            case Q8_1 -> BlockQ8_1.quantize(src, srcOff, dst, dstOffset, nb);
            case Q2_K -> BlockQ2_K.quantize(src, srcOff, dst, dstOffset, nb);
            case Q3_K -> BlockQ3_K.quantize(src, srcOff, dst, dstOffset, nb);
            case Q4_K -> BlockQ4_K.quantize(src, srcOff, dst, dstOffset, nb);
            case Q5_K -> BlockQ5_K.quantize(src, srcOff, dst, dstOffset, nb);
            case Q6_K -> BlockQ6_K.quantize(src, srcOff, dst, dstOffset, nb);
            case Q8_K -> BlockQ8_K.quantize(src, srcOff, dst, dstOffset, nb);
            default -> throw new UnsupportedOperationException("quantization to GGML type " + type + " (id " + type.id
                    + ") is not implemented");
        }
    }

    /** Whether {@link #quantizeRow} writes this type. */
    public static boolean canQuantize(GgmlType type) {
        return switch (type) {
            case F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K -> true;
            default -> false;
        };
    }

    /** Quantizes all of {@code src} into a new byte array of {@code type.byteSize(src.length)} bytes. */
    public static byte[] quantize(GgmlType type, float[] src) {
        byte[] out = new byte[Math.toIntExact(type.byteSize(src.length))];
        quantizeRow(type, src, 0, MemorySegment.ofArray(out), 0, src.length);
        return out;
    }

    /**
     * float32 to bfloat16, round to nearest even; NaN stays a (quiet) NaN. As gguf-py's
     * {@code __compute_fp32_to_bf16} and ggml_compute_fp32_to_bf16.
     */
    public static short toBf16(float f) {
        int n = Float.floatToRawIntBits(f);
        if ((n & 0x7fffffff) > 0x7f800000) return (short) ((n >>> 16) | 64);
        return (short) ((n + (0x7fff + ((n >>> 16) & 1))) >>> 16);
    }
}
