package org.jgemma.cpu;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Vectorised element-wise kernels of the CPU backend (FACTS §3.5-3.8 for the arithmetic). */
final class CpuOps {
    private CpuOps() {}

    private static final VectorSpecies<Float> F = VectorShapes.F;
    private static final VectorSpecies<Double> D = VectorShapes.D;
    private static final int FL = F.length();

    /** GELU(tanh) through an fp16 table, as ggml's CPU backend (vec.h :: ggml_vec_geglu_f32, GGML_GELU_FP16). */
    static final float[] GELU_F16 = new float[65536];

    static {
        for (int h = 0; h < 65536; h++) {
            float x = Float.float16ToFloat((short) h);
            GELU_F16[h] = Float.float16ToFloat(Float.floatToFloat16(geluF32(x)));
        }
    }

    /** ggml_gelu_f32: 0.5·x·(1 + tanh(√(2/π)·x·(1 + 0.044715·x²))). */
    static float geluF32(float x) {
        return 0.5f * x * (1.0f + (float) Math.tanh(0.79788456080286535587989211986876f * x * (1.0f + 0.044715f * x * x)));
    }

    /** y[i] = gelu(x[i]) · g[i] for i in [from, to). */
    static void geglu(float[] x, float[] g, float[] y, int from, int to) {
        for (int i = from; i < to; i++) {
            float v = x[i];
            if (v <= -10.0f) y[i] = 0.0f;
            else if (v >= 10.0f) y[i] = v * g[i];
            else y[i] = GELU_F16[Float.floatToFloat16(v) & 0xFFFF] * g[i];
        }
    }

    /** One RMSNorm row: out[o..o+dim) = x[xo..] · 1/sqrt(mean(x²)+eps) · w (ops.cpp :: ggml_compute_forward_rms_norm_f32). */
    static void rmsNormRow(float[] x, int xo, MemorySegment w, int dim, float eps, float[] out, int oo) {
        DoubleVector acc = DoubleVector.zero(D);
        int i = 0;
        for (; i + FL <= dim; i += FL) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            FloatVector sq = v.mul(v);
            acc = acc.add((DoubleVector) sq.convertShape(VectorOperators.F2D, D, 0))
                    .add((DoubleVector) sq.convertShape(VectorOperators.F2D, D, 1));
        }
        double sum = Lanes.sumD(acc);
        for (; i < dim; i++) sum += (double) (x[xo + i] * x[xo + i]);
        float mean = (float) (sum / dim);
        float scale = 1.0f / (float) Math.sqrt(mean + eps);
        i = 0;
        for (; i + FL <= dim; i += FL) {
            FloatVector.fromArray(F, x, xo + i).mul(scale)
                    .mul(FloatVector.fromMemorySegment(F, w, 4L * i, QuantDot.LE)).intoArray(out, oo + i);
        }
        for (; i < dim; i++) out[oo + i] = (x[xo + i] * scale) * w.get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(QuantDot.LE), 4L * i);
    }

    /** acc[i] += x[i]. */
    static void add(float[] acc, float[] x, int from, int to) {
        int i = from;
        for (; i + FL <= to; i += FL) FloatVector.fromArray(F, acc, i).add(FloatVector.fromArray(F, x, i)).intoArray(acc, i);
        for (; i < to; i++) acc[i] += x[i];
    }

    /** y[yo+i] += a · x[xo+i], i < n. */
    static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        for (; i + FL <= n; i += FL) FloatVector.fromArray(F, x, xo + i).fma(FloatVector.broadcast(F, a), FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        for (; i < n; i++) y[yo + i] += a * x[xo + i];
    }
}
