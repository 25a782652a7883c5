package org.jgemma.cpu;

/**
 * Scalar twin of {@link ActivationQuant}: quantizes float activation rows to Q8_0 / Q8_1 / Q8_K element by element,
 * with the arithmetic of llama.cpp's x86 CPU backend (FACTS §2.3):
 * <ul>
 *   <li>Q8_0, Q8_1 (ggml-cpu/arch/x86/quants.c :: quantize_row_q8_0 / quantize_row_q8_1, AVX path):
 *       {@code d = amax/127} stored as fp16, {@code id = 127/amax}, {@code q = round_half_even(x·id)};
 *       Q8_1 also stores {@code s = fp16(d · Σq)} with the unrounded d.</li>
 *   <li>Q8_K (ggml-quants.c :: quantize_row_q8_K_ref): {@code max} = signed value of largest |x| (first wins),
 *       {@code iscale = -127/max}, {@code q = min(127, rint(iscale·x))}, {@code d = 1/iscale} (float32), bsums per 16.</li>
 * </ul>
 */
final class ActivationQuantReference {
    private ActivationQuantReference() {}

    /** x[xOff .. xOff+k) to Q8_0 blocks: q[qOff ..], d[dOff .. dOff+k/32). */
    static void quantizeQ8_0(float[] x, int xOff, int k, short[] q, int qOff, float[] d, int dOff) {
        for (int b = 0; b < k / 32; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[xOff + 32 * b + j]));
            float dd = amax / 127f;
            float id = amax != 0 ? 127f / amax : 0f;
            d[dOff + b] = Float.float16ToFloat(Float.floatToFloat16(dd));
            for (int j = 0; j < 32; j++) q[qOff + 32 * b + j] = (short) (int) Math.rint(x[xOff + 32 * b + j] * id);
        }
    }

    /** As Q8_0, plus s[sOff + b] = fp16(d · Σq). */
    static void quantizeQ8_1(float[] x, int xOff, int k, short[] q, int qOff, float[] d, int dOff, float[] s, int sOff) {
        for (int b = 0; b < k / 32; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[xOff + 32 * b + j]));
            float dd = amax / 127f;
            float id = amax != 0 ? 127f / amax : 0f;
            d[dOff + b] = Float.float16ToFloat(Float.floatToFloat16(dd));
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                int v = (int) Math.rint(x[xOff + 32 * b + j] * id);
                q[qOff + 32 * b + j] = (short) v;
                sum += v;
            }
            s[sOff + b] = Float.float16ToFloat(Float.floatToFloat16(dd * sum));
        }
    }

    /** x to Q8_K super-blocks of 256: q, d[dOff + k/256), bsums[bOff + k/16). */
    static void quantizeQ8_K(float[] x, int xOff, int k, short[] q, int qOff, float[] d, int dOff, int[] bsums, int bOff) {
        for (int b = 0; b < k / 256; b++) {
            int base = xOff + 256 * b;
            float max = 0, amax = 0;
            for (int j = 0; j < 256; j++) {
                float ax = Math.abs(x[base + j]);
                if (ax > amax) {
                    amax = ax;
                    max = x[base + j];
                }
            }
            if (amax == 0) {
                d[dOff + b] = 0;
                for (int j = 0; j < 256; j++) q[qOff + 256 * b + j] = 0;
                for (int j = 0; j < 16; j++) bsums[bOff + 16 * b + j] = 0;
                continue;
            }
            float iscale = -127f / max;
            for (int j = 0; j < 256; j++) {
                int v = (int) Math.rint(iscale * x[base + j]);
                q[qOff + 256 * b + j] = (short) Math.min(127, v);
            }
            for (int j = 0; j < 16; j++) {
                int sum = 0;
                for (int l = 0; l < 16; l++) sum += q[qOff + 256 * b + 16 * j + l];
                bsums[bOff + 16 * b + j] = sum;
            }
            d[dOff + b] = 1 / iscale;
        }
    }
}
