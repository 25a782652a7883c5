package org.jgemma.ggml;

import static org.jgemma.ggml.Blocks.*;

import java.lang.foreign.MemorySegment;

/**
 * block_q4_1 (ggml-common.h), 32 elements in 20 bytes: {@code d: fp16 @0, m: fp16 @2, qs[16] @4}; nibbles as in Q4_0;
 * value = nibble * d + m.
 */
final class BlockQ4_1 {
    private BlockQ4_1() {}

    static final int QK = 32;
    static final int BYTES = 4 + QK / 2;

    static {
        check(GgmlType.Q4_1, QK, BYTES);
    }

    /** dequantize_row_q4_1. */
    static void dequantize(MemorySegment x, long xo, float[] y, int yo, int nb) {
        for (int i = 0; i < nb; i++, xo += BYTES, yo += QK) {
            float d = f16(x, xo), m = f16(x, xo + 2);
            for (int j = 0; j < QK / 2; j++) {
                int q = u8(x, xo + 4 + j);
                y[yo + j] = (q & 0x0F) * d + m;
                y[yo + j + QK / 2] = (q >> 4) * d + m;
            }
        }
    }

    /** quantize_row_q4_1_ref: d = (max - min) / 15, m = min, q = min(15, (int)((x - min)/d + 0.5)). */
    static void quantize(float[] x, int xo, MemorySegment y, long yo, int nb) {
        for (int i = 0; i < nb; i++, xo += QK, yo += BYTES) {
            float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
            for (int j = 0; j < QK; j++) {
                float v = x[xo + j];
                if (v < min) min = v;
                if (v > max) max = v;
            }
            float d = (max - min) / ((1 << 4) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(y, yo, d);
            putF16(y, yo + 2, min);
            for (int j = 0; j < QK / 2; j++) {
                int q0 = Math.min(15, (int) ((x[xo + j] - min) * id + 0.5f));
                int q1 = Math.min(15, (int) ((x[xo + QK / 2 + j] - min) * id + 0.5f));
                put8(y, yo + 4 + j, q0 | q1 << 4);
            }
        }
    }
}
