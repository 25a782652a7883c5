package org.jgemma.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;

import org.jgemma.backend.TestWeights;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;

/**
 * Manual speed driver (not a test): one thread, a weight matrix dotted with N activation rows as a batched decode step
 * does it, QuantDot once per row and column against QuantDotPair for pairs of columns, alternating, best of 15 runs,
 * in thread CPU time (on a shared machine the wall clock also counts the time other processes held the core); checks
 * that both give the same floats. {@code PairBench [k] [rows] [TYPE ...]}.
 */
public final class PairBench {
    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

    public static void main(String[] args) {
        int k = args.length > 0 ? Integer.parseInt(args[0]) : 1024, rows = args.length > 1 ? Integer.parseInt(args[1]) : 4096;
        String[] types = args.length > 2 ? java.util.Arrays.copyOfRange(args, 2, args.length) : new String[] {"Q8_0", "Q4_K", "Q6_K"};
        for (String name : types) {
            GgmlType t = GgmlType.valueOf(name);
            GgufTensorInfo w = TestWeights.random("w", t, rows, k, 5);
            int maxN = 8;
            Q8Activations a = new Q8Activations(maxN, k);
            a.kind = Q8Activations.kindFor(t);
            ActivationQuant.quantize(a, TestWeights.gaussian(maxN * k, 1.0, 1), 0, maxN, k);
            float[] one = new float[maxN * rows], two = new float[maxN * rows];
            for (int round = 0; round < 3; round++) {
                for (int n : new int[] {2, 4, 8}) {
                    long bestOne = Long.MAX_VALUE, bestTwo = Long.MAX_VALUE;
                    for (int rep = 0; rep < 15; rep++) {
                        bestOne = Math.min(bestOne, single(t, w.data(), a, n, k, rows, one));
                        bestTwo = Math.min(bestTwo, pairs(t, w.data(), a, n, k, rows, two));
                    }
                    for (int i = 0; i < n * rows; i++) {
                        if (Float.floatToRawIntBits(one[i]) != Float.floatToRawIntBits(two[i])) throw new AssertionError(t + " differs at " + i);
                    }
                    double perRowCol = 1.0 * rows * n;
                    System.out.printf(Locale.ROOT, "%s k=%d round %d N=%d: one column at a time %.1f ns per row and column, pairs %.1f, speed-up %.2fx%n",
                            t, k, round, n, bestOne / perRowCol, bestTwo / perRowCol, (double) bestOne / bestTwo);
                }
            }
        }
    }

    private static long single(GgmlType t, MemorySegment seg, Q8Activations a, int n, int k, int rows, float[] out) {
        long rb = t.byteSize(k), t0 = MX.getCurrentThreadCpuTime();
        for (int r = 0; r < rows; r++) for (int c = 0; c < n; c++) out[c * rows + r] = QuantDot.dot(t, seg, rb * r, a, c, k);
        return MX.getCurrentThreadCpuTime() - t0;
    }

    private static long pairs(GgmlType t, MemorySegment seg, Q8Activations a, int n, int k, int rows, float[] out) {
        long rb = t.byteSize(k), t0 = MX.getCurrentThreadCpuTime();
        for (int r = 0; r < rows; r++) {
            int c = 0;
            for (; c + 1 < n; c += 2) QuantDotPair.dot2(t, seg, rb * r, a, c, c + 1, k, out, c * rows + r, (c + 1) * rows + r);
            for (; c < n; c++) out[c * rows + r] = QuantDot.dot(t, seg, rb * r, a, c, k);
        }
        return MX.getCurrentThreadCpuTime() - t0;
    }
}
