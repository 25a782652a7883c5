package org.jgemma.ggml;

import static org.jgemma.ggml.Blocks.*;

import java.lang.foreign.MemorySegment;

/**
 * block_q4_0 (ggml-common.h), 32 elements in 18 bytes: {@code d: fp16 @0, qs[16] @2}; byte j holds element j in its
 * low nibble and element j+16 in its high nibble; value = (nibble - 8) * d.
 */
final class BlockQ4_0 {
    private BlockQ4_0() {}

    static final int QK = 32;
    static final int BYTES = 2 + QK / 2;

    static {
        check(GgmlType.Q4_0, QK, BYTES);
    }

    /** dequantize_row_q4_0: {@code nb} blocks at {@code x[xo..]} into {@code y[yo .. yo + 32 nb)}. */
    static void dequantize(MemorySegment x, long xo, float[] y, int yo, int nb) {
        for (int i = 0; i < nb; i++, xo += BYTES, yo += QK) {
            float d = f16(x, xo);
            for (int j = 0; j < QK / 2; j++) {
                int q = u8(x, xo + 2 + j);
                y[yo + j] = ((q & 0x0F) - 8) * d;
                y[yo + j + QK / 2] = ((q >> 4) - 8) * d;
            }
        }
    }

    /** quantize_row_q4_0_ref: d = max / -8 (max = the signed value of largest magnitude), q = min(15, (int)(x/d + 8.5)). */
    static void quantize(float[] x, int xo, MemorySegment y, long yo, int nb) {
        for (int i = 0; i < nb; i++, xo += QK, yo += BYTES) {
            float amax = 0, max = 0;
            for (int j = 0; j < QK; j++) {
                float v = x[xo + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(y, yo, d);
            for (int j = 0; j < QK / 2; j++) {
                int q0 = Math.min(15, (int) (x[xo + j] * id + 8.5f));
                int q1 = Math.min(15, (int) (x[xo + QK / 2 + j] * id + 8.5f));
                put8(y, yo + 2 + j, q0 | q1 << 4);
            }
        }
    }
}
