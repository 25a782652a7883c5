package org.jgemma.ggml;

import static org.jgemma.ggml.Blocks.*;

import java.lang.foreign.MemorySegment;

/**
 * block_q5_K (ggml-common.h), 256 elements in 176 bytes:
 * {@code d: fp16 @0, dmin: fp16 @2, scales[12] @4, qh[32] @16, qs[128] @48}. Scales and nibbles as in Q4_K; the 5th bit
 * of element 64c + l (+32) is bit 2c (2c+1) of qh[l] (qh does not advance between chunks).
 */
final class BlockQ5_K {
    private BlockQ5_K() {}

    static final int QK = 256;
    static final int BYTES = 2 + 2 + 12 + QK / 8 + QK / 2;

    static {
        check(GgmlType.Q5_K, QK, BYTES);
    }

    /** dequantize_row_q5_K. */
    static void dequantize(MemorySegment x, long xo, float[] y, int yo, int nb) {
        for (int i = 0; i < nb; i++, xo += BYTES) {
            float d = f16(x, xo), min = f16(x, xo + 2);
            long ql = xo + 48, qh = xo + 16;
            int u1 = 1, u2 = 2;
            for (int is = 0; is < 8; is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
                int sm0 = scaleMinK4(x, xo + 4, is), sm1 = scaleMinK4(x, xo + 4, is + 1);
                float d1 = d * (sm0 & 0xFF), m1 = min * (sm0 >> 8);
                float d2 = d * (sm1 & 0xFF), m2 = min * (sm1 >> 8);
                for (int l = 0; l < 32; l++) y[yo++] = d1 * ((u8(x, ql + l) & 0xF) + ((u8(x, qh + l) & u1) != 0 ? 16 : 0)) - m1;
                for (int l = 0; l < 32; l++) y[yo++] = d2 * ((u8(x, ql + l) >> 4) + ((u8(x, qh + l) & u2) != 0 ? 16 : 0)) - m2;
            }
        }
    }

    /** quantize_row_q5_K_ref (no importance matrix): make_qkx2_quants(32, 31, ..., -0.5, 0.1, 15) per sub-block. */
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
                scales[j] = KQuantMath.makeQkx2Quants(32, 31, x, s, weights, L, 32 * j, theMin, laux, -0.5f, 0.1f, 15, false);
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
                    L[32 * j + ii] = (byte) Math.max(0, Math.min(31, l));
                }
            }
            long qh = yo + 16, ql = yo + 48;
            for (int j = 0; j < 32; j++) put8(y, qh + j, 0);
            int m1 = 1, m2 = 2;
            for (int n = 0; n < QK; n += 64, ql += 32, m1 <<= 2, m2 <<= 2) {
                for (int j = 0; j < 32; j++) {
                    int l1 = L[n + j], l2 = L[n + j + 32];
                    if (l1 > 15) {
                        l1 -= 16;
                        put8(y, qh + j, u8(y, qh + j) | m1);
                    }
                    if (l2 > 15) {
                        l2 -= 16;
                        put8(y, qh + j, u8(y, qh + j) | m2);
                    }
                    put8(y, ql + j, l1 | l2 << 4);
                }
            }
        }
    }
}
