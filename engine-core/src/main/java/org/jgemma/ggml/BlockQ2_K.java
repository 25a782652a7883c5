package org.jgemma.ggml;

import static org.jgemma.ggml.Blocks.*;

import java.lang.foreign.MemorySegment;

/**
 * block_q2_K (ggml-common.h), 256 elements in 84 bytes: {@code scales[16] @0 (low nibble scale, high nibble min),
 * qs[64] @16 (2-bit), d: fp16 @80, dmin: fp16 @82}; value = d*(sc & 15) * q - dmin*(sc >> 4).
 */
final class BlockQ2_K {
    private BlockQ2_K() {}

    static final int QK = 256;
    static final int BYTES = QK / 16 + QK / 4 + 2 + 2;

    static {
        check(GgmlType.Q2_K, QK, BYTES);
    }

    /** dequantize_row_q2_K. */
    static void dequantize(MemorySegment x, long xo, float[] y, int yo, int nb) {
        for (int i = 0; i < nb; i++, xo += BYTES) {
            float d = f16(x, xo + 80), min = f16(x, xo + 82);
            long q = xo + 16;
            int is = 0;
            for (int n = 0; n < QK; n += 128, q += 32) {
                for (int j = 0, shift = 0; j < 4; j++, shift += 2) {
                    int sc = u8(x, xo + is++);
                    float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                    for (int l = 0; l < 16; l++) y[yo++] = dl * ((u8(x, q + l) >> shift) & 3) - ml;
                    sc = u8(x, xo + is++);
                    dl = d * (sc & 0xF);
                    ml = min * (sc >> 4);
                    for (int l = 0; l < 16; l++) y[yo++] = dl * ((u8(x, q + l + 16) >> shift) & 3) - ml;
                }
            }
        }
    }
}
