package org.jgemma.opencl;

/**
 * Plain scalar twins of the OpenCL kernels, written from ggml's CPU code (FACTS.md §3.5–3.8), for the tests.
 */
final class ScalarOps {
    private ScalarOps() {}

    /** ggml_compute_forward_rms_norm_f32 (double sum of float squares) times w. x, out: [rows][dim]. */
    static float[] rmsNormReference(float[] x, float[] w, int rows, int dim, float eps) {
        float[] out = new float[rows * dim];
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int i = 0; i < dim; i++) sum += x[r * dim + i] * x[r * dim + i];
            float scale = (float) (1.0 / Math.sqrt((float) (sum / dim) + eps));
            for (int i = 0; i < dim; i++) out[r * dim + i] = x[r * dim + i] * scale * w[i];
        }
        return out;
    }

    /** NeoX RoPE as ggml_rope_cache_init + rotate_pairs. x: [n][nHeads][headDim], modified in place. */
    static void ropeReference(float[] x, int n, int nHeads, int headDim, int[] pos, float base, float freqScale) {
        float thetaScale = (float) Math.pow(base, -2.0f / headDim);
        int half = headDim / 2;
        for (int t = 0; t < n; t++) {
            float theta = pos[t];
            for (int i = 0; i < half; i++) {
                double a = freqScale * theta;
                float c = (float) Math.cos(a);
                float s = (float) Math.sin(a);
                for (int h = 0; h < nHeads; h++) {
                    int o = (t * nHeads + h) * headDim;
                    float x0 = x[o + i];
                    float x1 = x[o + i + half];
                    x[o + i] = x0 * c - x1 * s;
                    x[o + i + half] = x0 * s + x1 * c;
                }
                theta *= thetaScale;
            }
        }
    }

    /**
     * Masked softmax attention in double over an f16-rounded cache. q: [n][nHead][hd]; keys[p] / values[p]: the
     * [kvDim] rows written for position p (f32, rounded here as the cache stores them).
     */
    static float[] attentionReference(float[] q, float[][] keys, float[][] values, int n, int[] pos, int nHead,
                                      int nKvHead, int hd, int window, int slots, float scale) {
        float[] out = new float[n * nHead * hd];
        int group = nHead / nKvHead;
        for (int t = 0; t < n; t++) {
            int p = pos[t];
            for (int h = 0; h < nHead; h++) {
                int kvh = h / group;
                double[] s = new double[p + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= p; j++) {
                    boolean masked = (window > 0 && p - j >= window) || p - j >= slots;
                    if (masked) {
                        s[j] = Double.NEGATIVE_INFINITY;
                        continue;
                    }
                    double d = 0;
                    for (int i = 0; i < hd; i++) d += q[(t * nHead + h) * hd + i] * (double) f16(keys[j][kvh * hd + i]);
                    s[j] = scale * d;
                    max = Math.max(max, d);
                }
                double sum = 0;
                for (int j = 0; j <= p; j++) {
                    s[j] = Math.exp(s[j] - max);
                    sum += s[j];
                }
                for (int i = 0; i < hd; i++) {
                    double acc = 0;
                    for (int j = 0; j <= p; j++) acc += s[j] * f16(values[j][kvh * hd + i]);
                    out[(t * nHead + h) * hd + i] = (float) (acc / sum);
                }
            }
        }
        return out;
    }

    static float f16(float x) {
        return Float.float16ToFloat(Float.floatToFloat16(x));
    }

    /** ggml_gelu_f32 (tanh approximation, in double here) times up. */
    static float gegluReference(float g, float u) {
        double x = g;
        return (float) (0.5 * x * (1 + Math.tanh(0.7978845608028654 * x * (1 + 0.044715 * x * x))) * u);
    }

    /** Lowest index of the maximum. */
    static int argmaxReference(float[] x, int off, int dim) {
        int best = 0;
        for (int j = 1; j < dim; j++) if (x[off + j] > x[off + best]) best = j;
        return best;
    }
}
