package org.jgemma.cpu;

import static org.jgemma.cpu.QuantDot.S256;
import static org.jgemma.cpu.QuantDot.fmaS;
import static org.jgemma.cpu.QuantDot.h;
import static org.jgemma.cpu.QuantDot.load16;
import static org.jgemma.cpu.QuantDot.madd;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import org.jgemma.ggml.GgmlType;

/**
 * Int8 dot products of one packed weight row with TWO activation rows (two sequences of a batched decode step): each
 * weight block is loaded and sign-extended once for both, and each result is bit-identical to {@link QuantDot#dot}
 * on that row (the same integer lane sums, the same float operations in the same order; {@code QuantDotPairTest}).
 *
 * <p>Shaped for C2. QuantDot's kernels handle two blocks per iteration with one accumulator each (even / odd
 * blocks); written that way for two columns, the loop body holds about 50 Vector API calls and C2 stops inlining
 * them partway ({@code -XX:+PrintInlining}: "NodeCountInliningCutoff"), the rest box their vectors on the heap and
 * the kernel runs 3x slower than two single dot products — what sank the earlier 4-row kernels. Here the loop does
 * one block per iteration and swaps each column's two accumulators after every block (block b still lands in
 * accumulator b % 2), about 26 calls: measured on this project's 2-core AMD EPYC (AVX2), one thread, a 4096 x 640
 * Q8_0 matrix, 2.62 ns per block and column against 3.50 for QuantDot (1.33x), and four columns at once are over
 * the budget again (7.4 ns).
 */
final class QuantDotPair {
    private QuantDotPair() {}

    /** Whether {@link #dot2} has a two-column kernel for {@code type}. */
    static boolean supports(GgmlType type) {
        return type == GgmlType.Q8_0;
    }

    /**
     * {@code out[o0] = QuantDot.dot(type, w, off, a, r0, k)} and {@code out[o1] = ... r1 ...}, for a type that
     * {@link #supports}.
     */
    static void dot2(GgmlType type, MemorySegment w, long off, Q8Activations a, int r0, int r1, int k, float[] out, int o0, int o1) {
        switch (type) {
            case Q8_0 -> dot2Q8_0(w, off, a, r0, r1, k, out, o0, o1);
            default -> throw new IllegalArgumentException("no two-column dot product for " + type);
        }
    }

    /** {@link QuantDot#dotQ8_0} for activation rows r0 and r1. */
    static void dot2Q8_0(MemorySegment w, long off, Q8Activations a, int r0, int r1, int k, float[] out, int o0, int o1) {
        short[] q = a.q;
        float[] d = a.d;
        int nb = k / 32, q0 = r0 * k, q1 = r1 * k, d0 = r0 * nb, d1 = r1 * nb;
        FloatVector zero = FloatVector.zero(QuantDot.F256);
        // c0 / c1: the accumulator of the current block's parity; c0o / c1o: the other one
        FloatVector c0 = zero, c0o = zero, c1 = zero, c1o = zero;
        for (int b = 0; b < nb; b++) {
            long o = off + 34L * b;
            int y = 32 * b;
            ShortVector w0 = load16(w, o + 2), w1 = load16(w, o + 18);
            float hw = h(w, o);
            IntVector s0 = madd(w0.mul(ShortVector.fromArray(S256, q, q0 + y)).add(w1.mul(ShortVector.fromArray(S256, q, q0 + y + 16))));
            IntVector s1 = madd(w0.mul(ShortVector.fromArray(S256, q, q1 + y)).add(w1.mul(ShortVector.fromArray(S256, q, q1 + y + 16))));
            FloatVector t = c0o;
            c0o = fmaS(s0, hw * d[d0 + b], c0);
            c0 = t;
            t = c1o;
            c1o = fmaS(s1, hw * d[d1 + b], c1);
            c1 = t;
        }
        // QuantDot sums acc0 + acc1 (even + odd); float addition is commutative, so the order of the pair is irrelevant
        out[o0] = Lanes.sum(c0.add(c0o));
        out[o1] = Lanes.sum(c1.add(c1o));
    }
}
