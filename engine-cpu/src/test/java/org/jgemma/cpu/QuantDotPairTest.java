package org.jgemma.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.stream.Stream;

import org.jgemma.backend.TestWeights;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The two-column kernels give, for each column, exactly the float of the one-column kernel ({@link QuantDot}, itself
 * checked against {@link QuantDotReference} in QuantKernelTest), so a sequence decoded in a batch gets the logits it
 * gets alone; and they stay within that test's limit of the scalar reference.
 */
class QuantDotPairTest {
    static Stream<GgmlType> pairTypes() {
        return Stream.of(GgmlType.Q8_0, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q6_K);
    }

    @Test
    void supportedWhereTheOneColumnKernelsRun() {
        // the pair kernels are written for 256-bit vectors, as QuantDot's; elsewhere Matmul dots one column at a time
        assertEquals(VectorShapes.INT8_WIDE, QuantDotPair.supports(GgmlType.Q8_0));
        assertTrue(!QuantDotPair.supports(GgmlType.Q4_0) && !QuantDotPair.supports(GgmlType.F32));
    }

    @ParameterizedTest
    @MethodSource("pairTypes")
    void eachColumnIsBitIdenticalToTheOneColumnKernel(GgmlType type) {
        assumeTrue(VectorShapes.INT8_WIDE, "the int8 kernels need 256-bit vectors (jgemma.vectorBits / this machine gives " + VectorShapes.BITS + ")");
        // widths of an odd and an even number of blocks (the Q8_0 kernel alternates two accumulators), 3 activation rows
        int[] widths = type.blockSize == 256 ? new int[] {256, 512, 768, 1536} : new int[] {32, 640, 1152, 96};
        for (int k : widths) {
            int rows = 5, cols = 3;
            GgufTensorInfo t = TestWeights.random("w", type, rows, k, 300 + k);
            float[] x = TestWeights.gaussian(cols * k, 1.0, 400 + k);
            x[3] = 0;
            x[k + 1] = 30f; // an outlier: a block with one large and many small quants
            Q8Activations a = new Q8Activations(cols, k);
            a.kind = Q8Activations.kindFor(type);
            ActivationQuant.quantize(a, x, 0, cols, k);
            long rb = type.byteSize(k);
            float[] out = new float[4];
            for (int r = 0; r < rows; r++) {
                for (int[] pair : new int[][] {{0, 1}, {2, 0}, {1, 1}}) {
                    QuantDotPair.dot2(type, t.data(), rb * r, a, pair[0], pair[1], k, out, 1, 3);
                    for (int i = 0; i < 2; i++) {
                        int col = pair[i];
                        float one = QuantDot.dot(type, t.data(), rb * r, a, col, k);
                        assertEquals(Float.floatToRawIntBits(one), Float.floatToRawIntBits(out[1 + 2 * i]),
                                type + " k=" + k + " row " + r + " column " + col + ": " + out[1 + 2 * i] + " vs one column " + one);
                        float ref = QuantDotReference.dot(type, t.data(), rb * r, a, col, k);
                        assertTrue(Math.abs(ref - one) <= 1e-4 * Math.max(1, Math.abs(ref)) + 1e-3,
                                type + " k=" + k + " row " + r + " column " + col + ": " + one + " vs reference " + ref);
                    }
                }
            }
        }
    }
}
