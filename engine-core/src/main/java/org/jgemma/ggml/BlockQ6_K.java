package org.jgemma.ggml;

import static org.jgemma.ggml.Blocks.*;

import java.lang.foreign.MemorySegment;

/**
 * block_q6_K (ggml-common.h), 256 elements in 210 bytes: {@code ql[128] @0, qh[64] @128, scales: int8[16] @192,
 * d: fp16 @208}. Two halves of 128 (ql += 64, qh += 32, scales += 8); value = d * sc * (q6 - 32), sc signed.
 */
final class BlockQ6_K {
    private BlockQ6_K() {}

    static final int QK = 256;
    static final int BYTES = QK / 2 + QK / 4 + QK / 16 + 2;

    static {
        check(GgmlType.Q6_K, QK, BYTES);
    }

    /** dequantize_row_q6_K. */
    static void dequantize(MemorySegment x, long xo, float[] y, int yo, int nb) {
        for (int i = 0; i < nb; i++, xo += BYTES) {
            float d = f16(x, xo + 208);
            long ql = xo, qh = xo + 128, sc = xo + 192;
            for (int n = 0; n < QK; n += 128, yo += 128, ql += 64, qh += 32, sc += 8) {
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    int h = u8(x, qh + l), a = u8(x, ql + l), b = u8(x, ql + l + 32);
                    int q1 = ((a & 0xF) | ((h & 3) << 4)) - 32;
                    int q2 = ((b & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                    int q3 = ((a >> 4) | (((h >> 4) & 3) << 4)) - 32;
                    int q4 = ((b >> 4) | (((h >> 6) & 3) << 4)) - 32;
                    y[yo + l] = d * i8(x, sc + is) * q1;
                    y[yo + l + 32] = d * i8(x, sc + is + 2) * q2;
                    y[yo + l + 64] = d * i8(x, sc + is + 4) * q3;
                    y[yo + l + 96] = d * i8(x, sc + is + 6) * q4;
                }
            }
        }
    }

    /** quantize_row_q6_K_ref: make_qx_quants(16, 32, rmse_type 1) per 16-element group, 8-bit scales, d = 1/iscale. */
    static void quantize(float[] x, int xo, MemorySegment y, long yo, int nb) {
        byte[] L = new byte[QK];
        float[] scales = new float[QK / 16];
        for (int i = 0; i < nb; i++, xo += QK, yo += BYTES) {
            float maxScale = 0, maxAbsScale = 0;
            for (int ib = 0; ib < QK / 16; ib++) {
                float scale = KQuantMath.makeQxQuants(16, 32, x, xo + 16 * ib, L, 16 * ib, 1);
                scales[ib] = scale;
                float abs = Math.abs(scale);
                if (abs > maxAbsScale) {
                    maxAbsScale = abs;
                    maxScale = scale;
                }
            }
            if (maxAbsScale < KQuantMath.GROUP_MAX_EPS) {
                y.asSlice(yo, BYTES).fill((byte) 0);
                continue;
            }
            float iscale = -128.f / maxScale;
            putF16(y, yo + 208, 1 / iscale);
            for (int ib = 0; ib < QK / 16; ib++) put8(y, yo + 192 + ib, Math.min(127, nearestInt(iscale * scales[ib])));
            float dAll = f16(y, yo + 208);
            for (int j = 0; j < QK / 16; j++) {
                float d = dAll * i8(y, yo + 192 + j);
                if (d == 0) continue;
                for (int ii = 0; ii < 16; ii++) {
                    int l = nearestInt(x[xo + 16 * j + ii] / d);
                    L[16 * j + ii] = (byte) (Math.max(-32, Math.min(31, l)) + 32);
                }
            }
            long ql = yo, qh = yo + 128;
            for (int j = 0; j < QK; j += 128, ql += 64, qh += 32) {
                for (int l = 0; l < 32; l++) {
                    int a = L[j + l], b = L[j + l + 32], c = L[j + l + 64], e = L[j + l + 96];
                    put8(y, ql + l, (a & 0xF) | (c & 0xF) << 4);
                    put8(y, ql + l + 32, (b & 0xF) | (e & 0xF) << 4);
                    put8(y, qh + l, (a >> 4) | (b >> 4) << 2 | (c >> 4) << 4 | (e >> 4) << 6);
                }
            }
        }
    }
}
