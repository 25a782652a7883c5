package org.jgemma.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.jgemma.ggml.GgmlType;
import org.jgemma.ggml.Quantize;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The 4-row kernels give every row exactly (bit for bit) what the one-row kernel gives it. */
class QuantDotMultiTest {
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_K", "Q6_K"})
    void fourRowsAtOnceEqualOneRowAtATime(GgmlType type) {
        int k = 512, rows = 5, n = 4;
        SplittableRandom rnd = new SplittableRandom(type.ordinal());
        float[] wf = new float[rows * k];
        for (int i = 0; i < wf.length; i++) wf[i] = (float) rnd.nextGaussian() * 0.05f;
        MemorySegment w = MemorySegment.ofArray(Quantize.quantize(type, wf));
        long rb = w.byteSize() / rows;
        float[] x = new float[n * k];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        Q8Activations acts = new Q8Activations(8, k);
        acts.kind = Q8Activations.kindFor(type);
        acts.rows = n;
        acts.cols = k;
        ActivationQuant.quantize(acts, x, 0, n, k);
        for (int r = 0; r < rows; r++) {
            float[] out = new float[n];
            QuantDotMulti.dot4(type, w, rb * r, acts, 0, 1, 2, 3, k, out, 0, 1, 2, 3);
            for (int t = 0; t < n; t++) {
                float one = QuantDot.dot(type, w, rb * r, acts, t, k);
                assertEquals(Float.floatToIntBits(one), Float.floatToIntBits(out[t]), type + " row " + r + " token " + t + ": " + one + " vs " + out[t]);
            }
        }
    }
}
