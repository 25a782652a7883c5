package org.jgemma.cpu;

import java.util.Locale;

import org.jgemma.backend.TestWeights;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;

/** Manual speed driver (not a test): single-thread mat-vec GB/s of each int8 kernel on random weights. */
public final class KernelBench {
    public static void main(String[] args) {
        int k = 1536, rows = 2048;
        float[] x = TestWeights.gaussian(k, 1.0, 1);
        for (String name : args.length > 0 ? args : new String[] {"Q8_0", "Q4_0", "Q5_0", "Q4_K", "Q6_K"}) {
            GgmlType t = GgmlType.valueOf(name);
            GgufTensorInfo w = TestWeights.random("w", t, rows, k, 5);
            Q8Activations a = new Q8Activations(1, k);
            a.kind = Q8Activations.kindFor(t);
            ActivationQuant.quantize(a, x, 0, 1, k);
            long rb = t.byteSize(k);
            float sink = 0;
            for (int rep = 0; rep < 30; rep++) {
                long t0 = System.nanoTime();
                for (int r = 0; r < rows; r++) sink += QuantDot.dot(t, w.data(), rb * r, a, 0, k);
                long dt = System.nanoTime() - t0;
                if (rep % 10 == 9) System.out.printf(Locale.ROOT, "%s %.2f GB/s  %.1f Melem/s%n", t, rb * rows / (double) dt, (double) k * rows / dt * 1e3);
            }
            if (sink == 42) System.out.println();
        }
    }
}
