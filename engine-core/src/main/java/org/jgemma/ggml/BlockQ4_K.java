package org.jgemma.ggml;

import static org.jgemma.ggml.Blocks.*;

import java.lang.foreign.MemorySegment;

/**
 * block_q4_K (ggml-common.h), 256 elements in 144 bytes: {@code d: fp16 @0, dmin: fp16 @2, scales[12] @4, qs[128] @16}.
 * 8 sub-blocks of 32 with 6-bit scale sc and min m (get_scale_min_k4); chunk c (64 elements) uses qs[32c ..]:
 * low nibbles are sub-block 2c, high nibbles 2c+1; value = (d*sc) * q - (dmin*m).
 */
final class BlockQ4_K {
    private BlockQ4_K() {}

    static final int QK = 256;
    static final int BYTES = 2 + 2 + 12 + QK / 2;

    static {
        check(GgmlType.Q4_K, QK, BYTES);
    }

    /** dequantize_row_q4_K. */
    static void dequantize(MemorySegment x, long xo, float[] y, int yo, int nb) {
        for (int i = 0; i < nb; i++, xo += BYTES) {
            float d = f16(x, xo), min = f16(x, xo + 2);
            long q = xo + 16;
            for (int is = 0; is < 8; is += 2, q += 32) {
                int sm0 = scaleMinK4(x, xo + 4, is), sm1 = scaleMinK4(x, xo + 4, is + 1);
                float d1 = d * (sm0 & 0xFF), m1 = min * (sm0 >> 8);
                float d2 = d * (sm1 & 0xFF), m2 = min * (sm1 >> 8);
                for (int l = 0; l < 32; l++) y[yo++] = d1 * (u8(x, q + l) & 0xF) - m1;
                for (int l = 0; l < 32; l++) y[yo++] = d2 * (u8(x, q + l) >> 4) - m2;
            }
        }
    }

    /** quantize_row_q4_K_ref (no importance matrix): make_qkx2_quants(32, 15, ..., -1, 0.1, 20) per sub-block. */
    static void quantize(float[] x, int xo, MemorySegment y, long yo, int nb) {
        byte[] L = new byte[QK];
        byte[] laux = new byte[32];
        float[] weights = new float[32];
        float[] mins = new float[QK / 32], scales = new float[QK / 32], theMin = new float[1];
        int[] ls = new int[8], lm = new int[8];
        for (int i = 0; i < nb; i++, xo += QK, yo += BYTES) {
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < QK / 32; j++) {
                int s = xo + 32 * j;
                float sumX2 = 0;
                for (int l = 0; l < 32; l++) sumX2 += x[s + l] * x[s + l];
                float avX = (float) Math.sqrt(sumX2 / 32);
                for (int l = 0; l < 32; l++) weights[l] = avX + Math.abs(x[s + l]);
                scales[j] = KQuantMath.makeQkx2Quants(32, 15, x, s, weights, L, 32 * j, theMin, laux, -1.f, 0.1f, 20, false);
                mins[j] = theMin[0];
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
            float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
            for (int j = 0; j < QK / 32; j++) {
                ls[j] = Math.min(63, nearestInt(invScale * scales[j]) & 0xFF);
                lm[j] = Math.min(63, nearestInt(invMin * mins[j]) & 0xFF);
            }
            packScaleMinK4(y, yo + 4, ls, lm);
            putF16(y, yo, maxScale / 63.f);
            putF16(y, yo + 2, maxMin / 63.f);
            float dAll = f16(y, yo), dminAll = f16(y, yo + 2);
            for (int j = 0; j < QK / 32; j++) {
                int sm = scaleMinK4(y, yo + 4, j);
                float d = dAll * (sm & 0xFF);
                if (d == 0) continue;
                float dm = dminAll * (sm >> 8);
                for (int ii = 0; ii < 32; ii++) {
                    int l = nearestInt((x[xo + 32 * j + ii] + dm) / d);
                    L[32 * j + ii] = (byte) Math.max(0, Math.min(15, l));
                }
            }
            long q = yo + 16;
            for (int j = 0; j < QK; j += 64, q += 32) {
                for (int l = 0; l < 32; l++) put8(y, q + l, L[j + l] | L[j + l + 32] << 4);
            }
        }
    }
}
