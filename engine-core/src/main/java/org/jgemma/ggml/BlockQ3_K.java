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
}
