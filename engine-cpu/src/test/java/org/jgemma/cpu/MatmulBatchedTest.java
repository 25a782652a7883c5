package org.jgemma.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Stream;

import org.jgemma.backend.TestWeights;
import org.jgemma.cpu.CpuMemory.CpuWeight;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The prompt-batch matmul through {@link Matmul} on two workers against its scalar twin, on seeded random weights: the
 * float tile ({@link MatmulBatched}) against {@link MatmulBatchedReference}, the native int8 kernels (the types they
 * cover, where they loaded; the java-kernels run switches them off so the float tile is tested for every type) against
 * {@link QuantDotReference}; token counts that are not multiples of the 16-token tile
 * (from {@link Matmul#TILE_MIN_TOKENS}: 9, 13, 33; fewer tokens take the single-token kernels), row counts that leave a partial 6-row panel, and K with a ragged last 256-column block.
 */
class MatmulBatchedTest {
    static Stream<Arguments> cases() {
        return Stream.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0,
                        GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K)
                .flatMap(t -> Stream.of(Matmul.TILE_MIN_TOKENS, 13, 33).map(n -> Arguments.of(t, n)));
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("cases")
    void batchedEqualsItsTwin(GgmlType type, int n) {
        // K: ragged last block (32-blocks: 288 = 256 + 32; 256-blocks: 768 = 3 blocks; floats: 263, odd); 37 rows = 6·6 + 1
        int k = type.blockSize == 256 ? 768 : type.blockSize == 32 ? 288 : 263, rows = 37;
        GgufTensorInfo info = TestWeights.random("w", type, rows, k, 400 + type.id + n);
        CpuWeight w = new CpuWeight("w", type, k, rows, info.data(), type.byteSize(k));
        float[] x = TestWeights.gaussian(n * k, 1.0, 500 + n);
        x[3] = 0;
        x[k + 5] = 25f;
        float[] want = new float[n * rows], got = new float[n * rows];
        // the native int8 kernels take prompts of their types (as llama.cpp's do): their twin is the int8 dot of the
        // quantized activations; the float tile's is the float dot of dequantized rows
        boolean int8 = Matmul.decodePath(w, n);
        if (int8) {
            Q8Activations a = new Q8Activations(n, k);
            a.kind = Q8Activations.kindFor(type);
            ActivationQuant.quantize(a, x, 0, n, k);
            for (int r = 0; r < rows; r++) for (int t = 0; t < n; t++) want[t * rows + r] = QuantDotReference.dot(type, info.data(), w.rowBytes() * r, a, t, k);
        } else {
            MatmulBatchedReference.matmul(w, x, n, want);
        }
        try (WorkerPool pool = new WorkerPool(2)) {
            Matmul m = new Matmul(pool, k);
            m.run(w, x, 0, n, got);
            // a second call with fewer tokens reuses the grown scratch
            m.run(w, x, 1, 4, got);
            m.run(w, x, 2, n, got);
        }
        float[] row = new float[k];
        for (int r = 0; r < rows; r++) {
            org.jgemma.ggml.Dequantize.dequantizeRow(type, info.data(), w.rowBytes() * r, row, 0, k);
            for (int t = 0; t < n; t++) {
                double mag = 0;
                for (int i = 0; i < k; i++) mag += Math.abs(row[i] * x[t * k + i]);
                // same products (float32, or int8 with the same scales), only the summation order differs
                assertEquals(want[t * rows + r], got[t * rows + r], 1e-5 * mag + 1e-30, type + " n=" + n + " row " + r + " token " + t + (int8 ? " (int8)" : ""));
            }
        }
    }
}
