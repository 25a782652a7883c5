package org.jgemma.cpu;

import java.util.Locale;

import org.jgemma.backend.Buffer;
import org.jgemma.backend.TestWeights;
import org.jgemma.backend.Weight;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;

/**
 * Manual speed driver (not a test): {@code MatmulBench [threads] [n] [TYPE:ROWSxCOLS ...]} prints GFLOP/s of the
 * batched matmul (prompt path) on random weights of the given shapes (default: gemma3 1B's FFN and attention).
 */
public final class MatmulBench {
    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        String[] shapes = args.length > 2 ? java.util.Arrays.copyOfRange(args, 2, args.length)
                : new String[] {"Q8_0:6912x1152", "Q8_0:1152x6912", "Q4_K:6912x1152", "Q6_K:1152x6912", "Q8_0:1024x1152"};
        try (CpuBackend b = new CpuBackend(threads)) {
            for (String s : shapes) {
                GgmlType t = GgmlType.valueOf(s.substring(0, s.indexOf(':')));
                String[] rc = s.substring(s.indexOf(':') + 1).split("x");
                int rows = Integer.parseInt(rc[0]), cols = Integer.parseInt(rc[1]);
                GgufTensorInfo info = TestWeights.random("w", t, rows, cols, 7);
                Weight w = b.upload(info);
                Buffer x = b.allocate((long) n * cols, "x"), out = b.allocate((long) n * rows, "out");
                b.write(x, 0, TestWeights.gaussian(n * cols, 1.0, 3), 0, n * cols);
                for (int rep = 0; rep < 12; rep++) {
                    long t0 = System.nanoTime();
                    int inner = 3;
                    for (int i = 0; i < inner; i++) b.matmul(w, x, n, out);
                    long dt = (System.nanoTime() - t0) / inner;
                    if (rep % 4 == 3) System.out.printf(Locale.ROOT, "%s %dx%d n=%d: %.2f ms %.1f GFLOP/s%n", t, rows, cols, n, dt / 1e6, 2.0 * rows * cols * n / dt);
                }
            }
        }
    }
}
