package org.jgemma.ggml;

import static org.jgemma.ggml.Blocks.*;

import java.lang.foreign.MemorySegment;

/**
 * block_q5_1 (ggml-common.h), 32 elements in 24 bytes: {@code d: fp16 @0, m: fp16 @2, qh: u32 LE @4, qs[16] @8};
 * bits as in Q5_0; value = q * d + m.
 */
final class BlockQ5_1 {
    private BlockQ5_1() {}

    static final int QK = 32;
    static final int BYTES = 2 + 2 + 4 + QK / 2;

    static {
        check(GgmlType.Q5_1, QK, BYTES);
    }

    /** dequantize_row_q5_1. */
    static void dequantize(MemorySegment x, long xo, float[] y, int yo, int nb) {
        for (int i = 0; i < nb; i++, xo += BYTES, yo += QK) {
            float d = f16(x, xo), m = f16(x, xo + 2);
            int qh = x.get(I32, xo + 4);
            for (int j = 0; j < QK / 2; j++) {
                int q = u8(x, xo + 8 + j);
                int xh0 = ((qh >>> j) << 4) & 0x10;
                int xh1 = (qh >>> (j + 12)) & 0x10;
                y[yo + j] = ((q & 0x0F) | xh0) * d + m;
                y[yo + j + QK / 2] = ((q >> 4) | xh1) * d + m;
            }
        }
    }

    /** quantize_row_q5_1_ref: d = (max - min) / 31, m = min, q = (uint8)((x - min)/d + 0.5). */
    static void quantize(float[] x, int xo, MemorySegment y, long yo, int nb) {
        for (int i = 0; i < nb; i++, xo += QK, yo += BYTES) {
            float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
            for (int j = 0; j < QK; j++) {
                float v = x[xo + j];
                if (v < min) min = v;
                if (v > max) max = v;
            }
            float d = (max - min) / ((1 << 5) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            putF16(y, yo, d);
            putF16(y, yo + 2, min);
            int qh = 0;
            for (int j = 0; j < QK / 2; j++) {
                int q0 = ((int) ((x[xo + j] - min) * id + 0.5f)) & 0xFF;
                int q1 = ((int) ((x[xo + QK / 2 + j] - min) * id + 0.5f)) & 0xFF;
                put8(y, yo + 8 + j, (q0 & 0x0F) | (q1 & 0x0F) << 4);
                qh |= ((q0 & 0x10) >>> 4) << j;
                qh |= ((q1 & 0x10) >>> 4) << (j + QK / 2);
            }
            y.set(I32, yo + 4, qh);
        }
    }
}
