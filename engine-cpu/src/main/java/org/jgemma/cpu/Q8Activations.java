package org.jgemma.cpu;

import org.jgemma.ggml.GgmlType;

/**
 * Activation rows quantized to 8 bits for the integer dot products, as ggml's CPU backend does before a quantized
 * matmul (FACTS §2.3): Q8_0 for Q4_0/Q5_0/Q8_0 weights, Q8_1 for Q4_1/Q5_1, Q8_K for the K-quants. The int8 values
 * are kept widened to int16 ({@code q}) so the kernels load them straight into 16-lane short vectors. Preallocated
 * for the largest row count and width; {@link ActivationQuant} fills it.
 */
final class Q8Activations {
    /** The activation format: Q8_0, Q8_1 or Q8_K. */
    GgmlType kind;
    /** Rows and columns currently held. */
    int rows, cols;
    /** [rows][cols] quantized values. */
    final short[] q;
    /** [rows][cols/32] (Q8_0, Q8_1: the fp16-rounded block scale) or [rows][cols/256] (Q8_K: float32 scale). */
    final float[] d;
    /** Q8_1 only: [rows][cols/32] fp16(d · Σq). */
    final float[] s;
    /** Q8_K only: [rows][cols/16] sums of each 16 quantized values. */
    final int[] bsums;

    /** The int8 copy of {@link #q} the native kernels read (NativeKernels.toBytes), allocated on first use. */
    private byte[] bytes;

    byte[] bytes() {
        if (bytes == null) bytes = new byte[q.length];
        return bytes;
    }

    /** The int16 copy of {@link #bsums} the native kernels read (ggml's block_q8_K keeps them as int16), allocated on first use. */
    private short[] bsums16;

    short[] bsums16() {
        if (bsums16 == null) bsums16 = new short[bsums.length];
        return bsums16;
    }

    Q8Activations(int maxRows, int maxCols) {
        q = new short[maxRows * maxCols];
        d = new float[maxRows * (maxCols / 32 + 1)];
        s = new float[maxRows * (maxCols / 32 + 1)];
        bsums = new int[maxRows * (maxCols / 16 + 1)];
    }

    int capacityRows(int cols) {
        return Math.min(q.length / Math.max(cols, 1), d.length / (cols / 32 + 1));
    }

    /** The activation type ggml uses for weights of {@code w} (vec_dot_type), or null for the float types. */
    static GgmlType kindFor(GgmlType w) {
        return switch (w) {
            case Q4_0, Q5_0, Q8_0 -> GgmlType.Q8_0;
            case Q4_1, Q5_1 -> GgmlType.Q8_1;
            case Q2_K, Q3_K, Q4_K, Q5_K, Q6_K -> GgmlType.Q8_K;
            default -> null;
        };
    }
}
