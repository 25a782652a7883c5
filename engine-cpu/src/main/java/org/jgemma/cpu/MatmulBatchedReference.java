package org.jgemma.cpu;

import org.jgemma.cpu.CpuMemory.CpuWeight;
import org.jgemma.ggml.Dequantize;

/**
 * Scalar twin of {@link MatmulBatched}: each weight row dequantized by engine-core's {@link Dequantize} and dotted
 * with each token row in float32, k in order. {@code out[t][r] = Σ_k W[r][k] x[t][k]}, out is [n][rows].
 */
final class MatmulBatchedReference {
    private MatmulBatchedReference() {}

    static void matmul(CpuWeight w, float[] x, int n, float[] out) {
        int k = (int) w.cols(), rows = (int) w.rows();
        float[] row = new float[k];
        for (int r = 0; r < rows; r++) {
            Dequantize.dequantizeRow(w.type(), w.data(), w.rowBytes() * r, row, 0, k);
            for (int t = 0; t < n; t++) {
                float s = 0;
                for (int i = 0; i < k; i++) s += row[i] * x[t * k + i];
                out[t * rows + r] = s;
            }
        }
    }
}
