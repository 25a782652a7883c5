package org.jgemma.ggml;

import static org.jgemma.ggml.Blocks.*;

import java.lang.foreign.MemorySegment;

/**
 * block_q8_1 (ggml-common.h), 32 elements in 36 bytes: {@code d: fp16 @0, s: fp16 @2 (= d * sum(qs)), qs: int8[32] @4};
 * value = qs[j] * d. The activation format paired with Q4_1 / Q5_1 weights.
 */
final class BlockQ8_1 {
    private BlockQ8_1() {}

    static final int QK = 32;
    static final int BYTES = 2 + 2 + QK;

    static {
        check(GgmlType.Q8_1, QK, BYTES);
    }

    /** Element values qs[j] * d (ggml has no dequantize_row_q8_1; this is the meaning of the block). */
    static void dequantize(MemorySegment x, long xo, float[] y, int yo, int nb) {
        for (int i = 0; i < nb; i++, xo += BYTES, yo += QK) {
            float d = f16(x, xo);
            for (int j = 0; j < QK; j++) y[yo + j] = i8(x, xo + 4 + j) * d;
        }
    }

    /** quantize_row_q8_1_ref: as Q8_0, plus s = fp16(sum(q) * d). */
    static void quantize(float[] x, int xo, MemorySegment y, long yo, int nb) {
        for (int i = 0; i < nb; i++, xo += QK, yo += BYTES) {
            float amax = 0;
            for (int j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[xo + j]));
            float d = amax / ((1 << 7) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(y, yo, d);
            int sum = 0;
            for (int j = 0; j < QK / 2; j++) {
                int q0 = (int) roundf(x[xo + j] * id);
                int q1 = (int) roundf(x[xo + QK / 2 + j] * id);
                put8(y, yo + 4 + j, q0);
                put8(y, yo + 4 + QK / 2 + j, q1);
                sum += (byte) q0 + (byte) q1;
            }
            putF16(y, yo + 2, sum * d);
        }
    }
}
