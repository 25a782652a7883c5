package org.jgemma.ggml;

import static org.jgemma.ggml.Blocks.*;

import java.lang.foreign.MemorySegment;

/**
 * block_q5_0 (ggml-common.h), 32 elements in 22 bytes: {@code d: fp16 @0, qh: u32 LE @2, qs[16] @6}; element j's low
 * 4 bits are nibbles as in Q4_0, its 5th bit is bit j of qh; value = (q - 16) * d.
 */
final class BlockQ5_0 {
    private BlockQ5_0() {}

    static final int QK = 32;
    static final int BYTES = 2 + 4 + QK / 2;

    static {
        check(GgmlType.Q5_0, QK, BYTES);
    }

    /** dequantize_row_q5_0. */
    static void dequantize(MemorySegment x, long xo, float[] y, int yo, int nb) {
        for (int i = 0; i < nb; i++, xo += BYTES, yo += QK) {
            float d = f16(x, xo);
            int qh = x.get(I32, xo + 2);
            for (int j = 0; j < QK / 2; j++) {
                int q = u8(x, xo + 6 + j);
                int xh0 = ((qh >>> j) << 4) & 0x10;
                int xh1 = (qh >>> (j + 12)) & 0x10;
                y[yo + j] = (((q & 0x0F) | xh0) - 16) * d;
                y[yo + j + QK / 2] = (((q >> 4) | xh1) - 16) * d;
            }
        }
    }

    /** quantize_row_q5_0_ref: d = max / -16, q = min(31, (int)(x/d + 16.5)). */
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
            float d = max / -16;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(y, yo, d);
            int qh = 0;
            for (int j = 0; j < QK / 2; j++) {
                int q0 = Math.min(31, (int) (x[xo + j] * id + 16.5f));
                int q1 = Math.min(31, (int) (x[xo + QK / 2 + j] * id + 16.5f));
                put8(y, yo + 6 + j, (q0 & 0x0F) | (q1 & 0x0F) << 4);
                qh |= ((q0 & 0x10) >>> 4) << j;
                qh |= ((q1 & 0x10) >>> 4) << (j + QK / 2);
            }
            y.set(I32, yo + 2, qh);
        }
    }
}
