package org.jgemma.ggml;

import static org.jgemma.ggml.Blocks.*;

import java.lang.foreign.MemorySegment;

/**
 * block_q8_K (ggml-common.h), 256 elements in 292 bytes: {@code d: float32 @0, qs: int8[256] @4, bsums: int16[16] @260}
 * (bsums[j] = sum of qs[16j .. 16j+15]); value = qs[j] * d. Activations only (paired with the K-quant weights);
 * never a weight type in files.
 */
final class BlockQ8_K {
    private BlockQ8_K() {}

    static final int QK = 256;
    static final int BYTES = 4 + QK + 2 * (QK / 16);

    static {
        check(GgmlType.Q8_K, QK, BYTES);
    }

    /** dequantize_row_q8_K. */
    static void dequantize(MemorySegment x, long xo, float[] y, int yo, int nb) {
        for (int i = 0; i < nb; i++, xo += BYTES, yo += QK) {
            float d = x.get(F32, xo);
            for (int j = 0; j < QK; j++) y[yo + j] = d * i8(x, xo + 4 + j);
        }
    }

    /**
     * quantize_row_q8_K_ref: max = the signed value of largest magnitude (first wins), iscale = -127/max,
     * q = min(127, nearest_int(iscale * x)) (half to even), d = 1/iscale (so usually negative); all-zero gives d = 0.
     */
    static void quantize(float[] x, int xo, MemorySegment y, long yo, int nb) {
        for (int i = 0; i < nb; i++, xo += QK, yo += BYTES) {
            float max = 0, amax = 0;
            for (int j = 0; j < QK; j++) {
                float ax = Math.abs(x[xo + j]);
                if (ax > amax) {
                    amax = ax;
                    max = x[xo + j];
                }
            }
            if (amax == 0) {
                y.asSlice(yo, BYTES).fill((byte) 0);
                continue;
            }
            float iscale = -127.f / max;
            for (int j = 0; j < QK; j++) put8(y, yo + 4 + j, Math.min(127, nearestInt(iscale * x[xo + j])));
            for (int j = 0; j < QK / 16; j++) {
                int sum = 0;
                for (int ii = 0; ii < 16; ii++) sum += i8(y, yo + 4 + j * 16 + ii);
                y.set(I16, yo + 4 + QK + 2L * j, (short) sum);
            }
            y.set(F32, yo, 1 / iscale);
        }
    }
}
