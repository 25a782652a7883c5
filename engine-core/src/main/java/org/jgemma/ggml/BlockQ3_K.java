package org.jgemma.ggml;

import static org.jgemma.ggml.Blocks.*;

import java.lang.foreign.MemorySegment;

/**
 * block_q3_K (ggml-common.h), 256 elements in 110 bytes: {@code hmask[32] @0, qs[64] @32 (low 2 bits),
 * scales[12] @96 (16 six-bit scales, offset 32), d: fp16 @108}; value = d*(sc - 32) * (q2 - (hmask bit ? 0 : 4)).
 */
final class BlockQ3_K {
    private BlockQ3_K() {}

    static final int QK = 256;
    static final int BYTES = QK / 8 + QK / 4 + 12 + 2;

    static {
        check(GgmlType.Q3_K, QK, BYTES);
    }

    /** dequantize_row_q3_K (scales unpacked as its kmask1/kmask2 code does). */
    static void dequantize(MemorySegment x, long xo, float[] y, int yo, int nb) {
        int[] aux = new int[4];
        for (int i = 0; i < nb; i++, xo += BYTES) {
            float dAll = f16(x, xo + 108);
            int a0 = x.get(I32, xo + 96), a1 = x.get(I32, xo + 100), tmp = x.get(I32, xo + 104);
            final int kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
            aux[2] = ((a0 >>> 4) & kmask2) | (((tmp >>> 4) & kmask1) << 4);
            aux[3] = ((a1 >>> 4) & kmask2) | (((tmp >>> 6) & kmask1) << 4);
            aux[0] = (a0 & kmask2) | ((tmp & kmask1) << 4);
            aux[1] = (a1 & kmask2) | (((tmp >>> 2) & kmask1) << 4);
            long q = xo + 32, hm = xo;
            int m = 1, is = 0;
            for (int n = 0; n < QK; n += 128, q += 32) {
                for (int j = 0, shift = 0; j < 4; j++, shift += 2, m <<= 1) {
                    float dl = dAll * (scale(aux, is++) - 32);
                    for (int l = 0; l < 16; l++) {
                        y[yo++] = dl * (((u8(x, q + l) >> shift) & 3) - ((u8(x, hm + l) & m) != 0 ? 0 : 4));
                    }
                    dl = dAll * (scale(aux, is++) - 32);
                    for (int l = 0; l < 16; l++) {
                        y[yo++] = dl * (((u8(x, q + l + 16) >> shift) & 3) - ((u8(x, hm + l + 16) & m) != 0 ? 0 : 4));
                    }
                }
            }
        }
    }

    /** Byte {@code k} of the little-endian aux words, as the int8 scales pointer reads it. */
    private static int scale(int[] aux, int k) {
        return (byte) (aux[k >> 2] >>> (8 * (k & 3)));
    }

    /**
     * quantize_row_q3_K_ref (llama-quantize without an importance matrix): make_q3_quants(16, 4, do_rmse) per
     * 16-element group, 6-bit signed scales (offset 32) relative to the block's largest, d = 1/iscale.
     */
    static void quantize(float[] x, int xo, MemorySegment y, long yo, int nb) {
        byte[] L = new byte[QK];
        float[] scales = new float[QK / 16];
        for (int i = 0; i < nb; i++, xo += QK, yo += BYTES) {
            float maxScale = 0, amax = 0;
            for (int j = 0; j < QK / 16; j++) {
                scales[j] = KQuantMath.makeQ3Quants(16, 4, x, xo + 16 * j, L, 16 * j);
                float scale = Math.abs(scales[j]);
                if (scale > amax) {
                    amax = scale;
                    maxScale = scales[j];
                }
            }
            long sc = yo + 96;
            for (int j = 0; j < 12; j++) put8(y, sc + j, 0);
            if (maxScale != 0) {
                float iscale = -32.f / maxScale;
                for (int j = 0; j < QK / 16; j++) {
                    int l = (byte) nearestInt(iscale * scales[j]); // int8_t l = nearest_int(...)
                    l = Math.max(-32, Math.min(31, l)) + 32;
                    if (j < 8) put8(y, sc + j, l & 0xF);
                    else put8(y, sc + j - 8, u8(y, sc + j - 8) | ((l & 0xF) << 4));
                    l >>= 4;
                    put8(y, sc + j % 4 + 8, u8(y, sc + j % 4 + 8) | (l << (2 * (j / 4))));
                }
                putF16(y, yo + 108, 1 / iscale);
            } else {
                putF16(y, yo + 108, 0.f);
            }
            float dAll = f16(y, yo + 108);
            for (int j = 0; j < QK / 16; j++) {
                int s = j < 8 ? u8(y, sc + j) & 0xF : u8(y, sc + j - 8) >> 4;
                s = (byte) (s | (((u8(y, sc + 8 + j % 4) >> (2 * (j / 4))) & 3) << 4)) - 32;
                float d = dAll * s;
                if (d == 0) continue;
                for (int ii = 0; ii < 16; ii++) {
                    int l = nearestInt(x[xo + 16 * j + ii] / d);
                    L[16 * j + ii] = (byte) (Math.max(-4, Math.min(3, l)) + 4);
                }
            }
            for (int j = 0; j < QK / 8; j++) put8(y, yo + j, 0);
            int m = 0, hm = 1;
            for (int j = 0; j < QK; j++) {
                if (L[j] > 3) {
                    put8(y, yo + m, u8(y, yo + m) | hm);
                    L[j] -= 4;
                }
                if (++m == QK / 8) {
                    m = 0;
                    hm <<= 1;
                }
            }
            long q = yo + 32;
            for (int j = 0; j < QK; j += 128, q += 32) {
                for (int l = 0; l < 32; l++) {
                    put8(y, q + l, L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
                }
            }
        }
    }
}
