package org.jgemma.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorised activation quantizers (fast twins of {@link ActivationQuantReference}, same arithmetic). Rounding to
 * nearest-even uses the 1.5·2²³ trick, exact for |v| ≤ 2²² (here |v| ≤ 127).
 */
final class ActivationQuant {
    private ActivationQuant() {}

    private static final VectorSpecies<Float> F = VectorShapes.F;
    private static final int FL = F.length(); // 4, 8 or 16: divides the blocks of 32 and groups of 16
    /** F's shape in int lanes (looked up once: withLanes goes through the lane type's class name each call). */
    private static final VectorSpecies<Integer> FI = F.withLanes(int.class);
    /** FL shorts: the rounded ints narrowed for storing. */
    private static final VectorSpecies<Short> SH = VectorSpecies.of(short.class, VectorShape.forBitSize(16 * FL));
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
            FloatVector vmax = FloatVector.fromArray(F, x, o).abs();
            for (int j = FL; j < 32; j += FL) vmax = vmax.max(FloatVector.fromArray(F, x, o + j).abs());
            float amax = vmax.reduceLanes(VectorOperators.MAX);
            float dd = amax / 127f;
            float id = amax != 0 ? 127f / amax : 0f;
            d[dOff + b] = Float.float16ToFloat(Float.floatToFloat16(dd));
            int qo = qOff + 32 * b;
            IntVector isum = IntVector.zero(FI);
            for (int j = 0; j < 32; j += FL) {
                IntVector i = round(FloatVector.fromArray(F, x, o + j), id);
                ((ShortVector) i.convertShape(VectorOperators.I2S, SH, 0)).intoArray(q, qo + j);
                isum = isum.add(i);
            }
            if (s != null) {
                int sum = isum.reduceLanes(VectorOperators.ADD);
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
            for (int j = 0; j < 256; j += FL) vmax = vmax.max(FloatVector.fromArray(F, x, base + j).abs());
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
                IntVector sum = IntVector.zero(FI);
                for (int c = 0; c < 16; c += FL) {
                    IntVector a = round(FloatVector.fromArray(F, x, base + j + c), iscale).min(127);
                    ((ShortVector) a.convertShape(VectorOperators.I2S, SH, 0)).intoArray(q, qb + j + c);
                    sum = sum.add(a);
                }
                bsums[bOff + 16 * b + j / 16] = sum.reduceLanes(VectorOperators.ADD);
            }
            d[dOff + b] = 1 / iscale;
        }
    }
}
