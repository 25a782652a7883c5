package org.jgemma.cpu;

import java.util.Locale;

import org.jgemma.backend.TestWeights;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;

/**
 * Manual speed driver (not a test): mat-vec GB/s of each int8 kernel on random weights, rows split over a
 * {@link WorkerPool}. {@code KernelBench [TYPE...]}; {@code -Dkb.k=1536 -Dkb.rows=2048 -Dkb.threads=1} (use enough rows
 * to exceed the caches when measuring memory bandwidth, e.g. rows=32768).
 */
public final class KernelBench {
    public static void main(String[] args) {
        int k = Integer.getInteger("kb.k", 1536), rows = Integer.getInteger("kb.rows", 2048);
        int threads = Integer.getInteger("kb.threads", 1);
        float[] x = TestWeights.gaussian(k, 1.0, 1);
        try (WorkerPool pool = new WorkerPool(threads)) {
            for (String name : args.length > 0 ? args : new String[] {"Q8_0", "Q4_0", "Q5_0", "Q4_K", "Q6_K"}) {
                GgmlType t = GgmlType.valueOf(name);
                GgufTensorInfo w = TestWeights.random("w", t, rows, k, 5);
                Q8Activations a = new Q8Activations(1, k);
                a.kind = Q8Activations.kindFor(t);
                ActivationQuant.quantize(a, x, 0, 1, k);
                long rb = t.byteSize(k);
                float[] out = new float[rows];
                long[] spent = new long[threads];
                WorkerPool.Task task = (wk, nw) -> {
                    int per = (rows + nw - 1) / nw, r0 = Math.min(rows, wk * per), r1 = Math.min(rows, r0 + per);
                    long s0 = System.nanoTime();
                    for (int r = r0; r < r1; r++) out[r] = QuantDot.dot(t, w.data(), rb * r, a, 0, k);
                    spent[wk] = System.nanoTime() - s0;
                };
                long best = Long.MAX_VALUE;
                for (int rep = 0; rep < 40; rep++) {
                    long t0 = System.nanoTime();
                    pool.run(task);
                    long dt = System.nanoTime() - t0;
                    best = Math.min(best, dt);
                    if (rep % 10 == 9) { // best of the last 10 runs (the shared machine is noisy)
                        dt = best;
                        best = Long.MAX_VALUE;
                        System.out.printf(Locale.ROOT, "%s k=%d rows=%d threads=%d: %.2f GB/s  %.1f Melem/s%n", t, k, rows, threads,
                                rb * rows / (double) dt, (double) k * rows / dt * 1e3);
                        if (Boolean.getBoolean("kb.verbose")) System.out.println("  per worker us: " + java.util.Arrays.toString(java.util.Arrays.stream(spent).map(v -> v / 1000).toArray()) + ", call us: " + dt / 1000);
                    }
                }
            }
        }
    }
}
