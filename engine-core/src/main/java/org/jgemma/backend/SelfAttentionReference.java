package org.jgemma.backend;

import java.util.stream.IntStream;

/**
 * Full (non-causal) multi-head self-attention over n tokens, plain Java: the slow twin of every backend's
 * {@link Backend#selfAttention} and its default. The SigLIP encoder's attention (tools/mtmd/clip.cpp :: clip_graph::build_attn
 * with no mask: kq = k·q, soft_max_ext(kq, scale), kqv = v·kq; HF SiglipAttention):
 * {@code out[i][h] = Σ_j softmax_j(scale · q[i][h]·k[j][h]) · v[j][h]}. q, k, v and out are {@code [n][nHead][headDim]},
 * row-major. Dot products and the softmax sum in double, exp in float (ggml_soft_max). Heads in parallel.
 */
public final class SelfAttentionReference {
    private SelfAttentionReference() {}

    public static void run(float[] q, float[] k, float[] v, int n, int nHead, int headDim, float scale, float[] out) {
        check(n, nHead, headDim, q.length, k.length, v.length, out.length);
        int d = nHead * headDim;
        IntStream.range(0, nHead).parallel().forEach(h -> {
            float[] sc = new float[n];
            double[] acc = new double[headDim];
            for (int i = 0; i < n; i++) {
                int qo = i * d + h * headDim;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    int ko = j * d + h * headDim;
                    double s = 0;
                    for (int e = 0; e < headDim; e++) s += (double) q[qo + e] * k[ko + e];
                    sc[j] = scale * (float) s;
                    max = Math.max(max, sc[j]);
                }
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    sc[j] = (float) Math.exp(sc[j] - max);
                    sum += sc[j];
                }
                java.util.Arrays.fill(acc, 0.0);
                for (int j = 0; j < n; j++) {
                    double pj = sc[j];
                    int vo = j * d + h * headDim;
                    for (int e = 0; e < headDim; e++) acc[e] += pj * v[vo + e];
                }
                for (int e = 0; e < headDim; e++) out[qo + e] = (float) (acc[e] / sum);
            }
        });
    }

    /** Shapes: n, nHead, headDim ≥ 1 and every array holds n·nHead·headDim floats. */
    public static void check(long n, int nHead, int headDim, long q, long k, long v, long out) {
        if (n < 1 || nHead < 1 || headDim < 1) {
            throw new IllegalArgumentException("selfAttention: n " + n + ", nHead " + nHead + ", headDim " + headDim + " (each must be >= 1)");
        }
        long len = n * nHead * headDim;
        if (q < len || k < len || v < len || out < len) {
            throw new IllegalArgumentException("selfAttention: " + n + "x" + nHead + "x" + headDim + " = " + len + " floats, but q holds "
                    + q + ", k " + k + ", v " + v + ", out " + out);
        }
    }
}
