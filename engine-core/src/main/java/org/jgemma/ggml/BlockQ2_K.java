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

    /**
     * quantize_row_q2_K_ref (llama-quantize without an importance matrix): make_qkx2_quants(16, 3, weights |x|,
     * -0.5, 0.1, 15, use_mad) per 16-element group, 4-bit scales and mins relative to the block's largest.
     */
    static void quantize(float[] x, int xo, MemorySegment y, long yo, int nb) {
        byte[] L = new byte[QK];
        byte[] laux = new byte[16];
        float[] weights = new float[16];
        float[] mins = new float[QK / 16], scales = new float[QK / 16], theMin = new float[1];
        final float q4scale = 15.f;
        for (int i = 0; i < nb; i++, xo += QK, yo += BYTES) {
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < QK / 16; j++) {
                for (int l = 0; l < 16; l++) weights[l] = Math.abs(x[xo + 16 * j + l]);
                scales[j] = KQuantMath.makeQkx2Quants(16, 3, x, xo + 16 * j, weights, L, 16 * j, theMin, laux, -0.5f, 0.1f, 15, true);
                mins[j] = theMin[0];
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            if (maxScale > 0) {
                float iscale = q4scale / maxScale;
                for (int j = 0; j < QK / 16; j++) put8(y, yo + j, nearestInt(iscale * scales[j]));
                putF16(y, yo + 80, maxScale / q4scale);
            } else {
                for (int j = 0; j < QK / 16; j++) put8(y, yo + j, 0);
                putF16(y, yo + 80, 0.f);
            }
            if (maxMin > 0) {
                float iscale = q4scale / maxMin;
                for (int j = 0; j < QK / 16; j++) put8(y, yo + j, u8(y, yo + j) | (nearestInt(iscale * mins[j]) << 4));
                putF16(y, yo + 82, maxMin / q4scale);
            } else {
                putF16(y, yo + 82, 0.f);
            }
            float dAll = f16(y, yo + 80), dminAll = f16(y, yo + 82);
            for (int j = 0; j < QK / 16; j++) {
                int sc = u8(y, yo + j);
                float d = dAll * (sc & 0xF);
                if (d == 0) continue;
                float dm = dminAll * (sc >> 4);
                for (int ii = 0; ii < 16; ii++) {
                    int l = nearestInt((x[xo + 16 * j + ii] + dm) / d);
                    L[16 * j + ii] = (byte) Math.max(0, Math.min(3, l));
                }
            }
            long q = yo + 16;
            for (int j = 0; j < QK; j += 128, q += 32) {
                for (int l = 0; l < 32; l++) {
                    put8(y, q + l, L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
                }
            }
        }
    }
}
