package org.jgemma.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorised activation quantizers (fast twins of {@link ActivationQuantReference}, same arithmetic). Rounding to
 * nearest-even uses the 1.5·2²³ trick, exact for |v| ≤ 2²² (here |v| ≤ 127).
 */
final class ActivationQuant {
    private ActivationQuant() {}

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Short> S128 = ShortVector.SPECIES_128;
    private static final float MAGIC = 12582912f; // 1.5 * 2^23

    /** Quantizes rows [r0, r1) of x = [rows][k] into a (format a.kind). */
    static void quantize(Q8Activations a, float[] x, int r0, int r1, int k) {
        for (int r = r0; r < r1; r++) {
            switch (a.kind) {
                case Q8_0 -> quantizeQ8_0(x, r * k, k, a.q, r * k, a.d, r * (k / 32), null, 0);
                case Q8_1 -> quantizeQ8_0(x, r * k, k, a.q, r * k, a.d, r * (k / 32), a.s, r * (k / 32));
                case Q8_K -> quantizeQ8_K(x, r * k, k, a.q, r * k, a.d, r * (k / 256), a.bsums, r * (k / 16));
                default -> throw new IllegalStateException("not an activation type: " + a.kind);
            }
        }
    }

    /** Q8_0 (s == null) or Q8_1 (s != null) blocks of 32. */
    static void quantizeQ8_0(float[] x, int xOff, int k, short[] q, int qOff, float[] d, int dOff, float[] s, int sOff) {
        for (int b = 0; b < k / 32; b++) {
            int o = xOff + 32 * b;
            FloatVector v0 = FloatVector.fromArray(F, x, o), v1 = FloatVector.fromArray(F, x, o + 8);
            FloatVector v2 = FloatVector.fromArray(F, x, o + 16), v3 = FloatVector.fromArray(F, x, o + 24);
            float amax = v0.abs().max(v1.abs()).max(v2.abs().max(v3.abs())).reduceLanes(VectorOperators.MAX);
            float dd = amax / 127f;
            float id = amax != 0 ? 127f / amax : 0f;
            d[dOff + b] = Float.float16ToFloat(Float.floatToFloat16(dd));
            IntVector i0 = round(v0, id), i1 = round(v1, id), i2 = round(v2, id), i3 = round(v3, id);
            int qo = qOff + 32 * b;
            ((ShortVector) i0.convertShape(VectorOperators.I2S, S128, 0)).intoArray(q, qo);
            ((ShortVector) i1.convertShape(VectorOperators.I2S, S128, 0)).intoArray(q, qo + 8);
            ((ShortVector) i2.convertShape(VectorOperators.I2S, S128, 0)).intoArray(q, qo + 16);
            ((ShortVector) i3.convertShape(VectorOperators.I2S, S128, 0)).intoArray(q, qo + 24);
            if (s != null) {
                int sum = i0.add(i1).add(i2.add(i3)).reduceLanes(VectorOperators.ADD);
                s[sOff + b] = Float.float16ToFloat(Float.floatToFloat16(dd * sum));
            }
        }
    }

    private static IntVector round(FloatVector v, float id) {
        return (IntVector) v.mul(id).add(MAGIC).sub(MAGIC).convert(VectorOperators.F2I, 0);
    }

    /** Q8_K super-blocks of 256 (the reference arithmetic; vectorised rounding and sums). */
    static void quantizeQ8_K(float[] x, int xOff, int k, short[] q, int qOff, float[] d, int dOff, int[] bsums, int bOff) {
        for (int b = 0; b < k / 256; b++) {
            int base = xOff + 256 * b;
            FloatVector vmax = FloatVector.zero(F);
            for (int j = 0; j < 256; j += 8) vmax = vmax.max(FloatVector.fromArray(F, x, base + j).abs());
            float amax = vmax.reduceLanes(VectorOperators.MAX);
            int qb = qOff + 256 * b;
            if (amax == 0) {
                d[dOff + b] = 0;
                java.util.Arrays.fill(q, qb, qb + 256, (short) 0);
                java.util.Arrays.fill(bsums, bOff + 16 * b, bOff + 16 * b + 16, 0);
                continue;
            }
            float max = 0;
            for (int j = 0; j < 256; j++) { // first element with |x| == amax, keeping its sign
                if (Math.abs(x[base + j]) == amax) {
                    max = x[base + j];
                    break;
                }
            }
            float iscale = -127f / max;
            for (int j = 0; j < 256; j += 16) {
                IntVector a = round(FloatVector.fromArray(F, x, base + j), iscale).min(127);
                IntVector c = round(FloatVector.fromArray(F, x, base + j + 8), iscale).min(127);
                ((ShortVector) a.convertShape(VectorOperators.I2S, S128, 0)).intoArray(q, qb + j);
                ((ShortVector) c.convertShape(VectorOperators.I2S, S128, 0)).intoArray(q, qb + j + 8);
                bsums[bOff + 16 * b + j / 16] = a.add(c).reduceLanes(VectorOperators.ADD);
            }
            d[dOff + b] = 1 / iscale;
        }
    }
}
