package org.jgemma.ggml;

import static org.jgemma.ggml.Blocks.*;

import java.lang.foreign.MemorySegment;

/** block_q8_0 (ggml-common.h), 32 elements in 34 bytes: {@code d: fp16 @0, qs: int8[32] @2}; value = qs[j] * d. */
final class BlockQ8_0 {
    private BlockQ8_0() {}

    static final int QK = 32;
    static final int BYTES = 2 + QK;

    static {
        check(GgmlType.Q8_0, QK, BYTES);
    }

    /** dequantize_row_q8_0. */
    static void dequantize(MemorySegment x, long xo, float[] y, int yo, int nb) {
        for (int i = 0; i < nb; i++, xo += BYTES, yo += QK) {
            float d = f16(x, xo);
            for (int j = 0; j < QK; j++) y[yo + j] = i8(x, xo + 2 + j) * d;
        }
    }

    /** quantize_row_q8_0_ref: d = amax / 127, q = roundf(x / d) (half away from zero). */
    static void quantize(float[] x, int xo, MemorySegment y, long yo, int nb) {
        for (int i = 0; i < nb; i++, xo += QK, yo += BYTES) {
            float amax = 0;
            for (int j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[xo + j]));
            float d = amax / ((1 << 7) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(y, yo, d);
            for (int j = 0; j < QK; j++) put8(y, yo + 2 + j, (int) roundf(x[xo + j] * id));
        }
    }
}
