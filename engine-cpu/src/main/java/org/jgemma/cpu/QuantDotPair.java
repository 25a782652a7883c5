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
import jdk.incubator.vector.VectorOperators;
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
 * the budget again (7.4 ns). The Q5_0, Q4_K and Q6_K kernels mirror QuantDot's / QuantDotK's loops (one block or
 * sub-block per iteration, one accumulator) with the weight unpacking shared: 1.38x, 1.31x and 1.62x ({@code PairBench}).
 * The slow twin is {@link QuantDotReference} through QuantDot (each column is QuantDot's float, bit for bit).
 */
final class QuantDotPair {
    private QuantDotPair() {}

    /**
     * Whether {@link #dot2} has a two-column kernel for {@code type} on this machine: written, like QuantDot's, for
     * 256-bit vectors ({@link VectorShapes#INT8_WIDE}; where QuantDot falls back to its scalar twin, so do its callers).
     */
    static boolean supports(GgmlType type) {
        return VectorShapes.INT8_WIDE && (type == GgmlType.Q8_0 || type == GgmlType.Q5_0 || type == GgmlType.Q4_K || type == GgmlType.Q6_K);
    }

    /**
     * {@code out[o0] = QuantDot.dot(type, w, off, a, r0, k)} and {@code out[o1] = ... r1 ...}, for a type that
     * {@link #supports}.
     */
    static void dot2(GgmlType type, MemorySegment w, long off, Q8Activations a, int r0, int r1, int k, float[] out, int o0, int o1) {
        switch (type) {
            case Q8_0 -> dot2Q8_0(w, off, a, r0, r1, k, out, o0, o1);
            case Q5_0 -> dot2Q5_0(w, off, a, r0, r1, k, out, o0, o1);
            case Q4_K -> dot2Q4_K(w, off, a, r0, r1, k, out, o0, o1);
            case Q6_K -> dot2Q6_K(w, off, a, r0, r1, k, out, o0, o1);
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
        out[o0] = Lanes.sumFI(c0.add(c0o));
        out[o1] = Lanes.sumFI(c1.add(c1o));
    }

    /** Lane j: 1 << (15 - j) (QuantDot's POW). */
    private static final ShortVector POW;

    static {
        short[] p = new short[16];
        for (int j = 0; j < 16; j++) p[j] = (short) (1 << (15 - j));
        POW = ShortVector.fromArray(S256, p, 0);
    }

    /** 0xFFF0 per lane j whose bit j of {@code bits} is set, else 0 (QuantDot's minus16). */
    private static ShortVector minus16(int bits) {
        return ShortVector.broadcast(S256, (short) bits).mul(POW).lanewise(VectorOperators.ASHR, 15).and((short) 0xFFF0);
    }

    /** {@link QuantDot#dotQ5_0} for activation rows r0 and r1. */
    static void dot2Q5_0(MemorySegment w, long off, Q8Activations a, int r0, int r1, int k, float[] out, int o0, int o1) {
        short[] q = a.q;
        float[] d = a.d;
        int nb = k / 32, q0 = r0 * k, q1 = r1 * k, d0 = r0 * nb, d1 = r1 * nb;
        FloatVector acc0 = FloatVector.zero(QuantDot.F256), acc1 = acc0;
        for (int b = 0; b < nb; b++) {
            long o = off + 22L * b;
            long hdr = w.get(QuantDot.I64, o); // d (f16), qh (32 bits), qs[0..1]
            int clear = ~(int) (hdr >>> 16);
            ShortVector v = QuantDot.load16u(w, o + 6);
            ShortVector lo = v.and((short) 0xF).or(minus16(clear));
            ShortVector hi = v.lanewise(VectorOperators.LSHR, 4).or(minus16(clear >>> 16));
            float hw = Float.float16ToFloat((short) hdr);
            int y = 32 * b;
            acc0 = fmaS(QuantDotK.madd16(lo.mul(act(q, q0 + y)).add(hi.mul(act(q, q0 + y + 16)))), hw * d[d0 + b], acc0);
            acc1 = fmaS(QuantDotK.madd16(lo.mul(act(q, q1 + y)).add(hi.mul(act(q, q1 + y + 16)))), hw * d[d1 + b], acc1);
        }
        out[o0] = Lanes.sumFI(acc0);
        out[o1] = Lanes.sumFI(acc1);
    }

    private static ShortVector act(short[] q, int y) {
        return ShortVector.fromArray(S256, q, y);
    }

    /** Σ_j mins[j] · (bsums[bo + 2j] + bsums[bo + 2j + 1]), as QuantDotK's. */
    private static int minSum(long mins, int[] bsums, int bo) {
        int s = 0;
        for (int j = 0; j < 8; j++) s += (int) ((mins >>> (8 * j)) & 0xFF) * (bsums[bo + 2 * j] + bsums[bo + 2 * j + 1]);
        return s;
    }

    /** {@link QuantDotK#dotQ4_K} for activation rows r0 and r1 (one sub-block of 32 per inner iteration). */
    static void dot2Q4_K(MemorySegment w, long off, Q8Activations a, int r0, int r1, int k, float[] out, int o0, int o1) {
        short[] q = a.q;
        int[] bsums = a.bsums;
        int nb = k / 256, bs0 = r0 * (k / 16), bs1 = r1 * (k / 16), da0 = r0 * nb, da1 = r1 * nb;
        FloatVector acc0 = FloatVector.zero(QuantDot.F256), acc1 = acc0;
        float mins0 = 0, mins1 = 0;
        for (int b = 0; b < nb; b++) {
            long o = off + 144L * b;
            long l0 = w.get(QuantDot.I64, o), l1 = w.get(QuantDot.I64, o + 8);
            int u0 = (int) (l0 >>> 32), u1 = (int) l1, u2 = (int) (l1 >>> 32);
            long sc = QuantDotK.scales8(u0, u1, u2);
            IntVector is0 = IntVector.zero(VectorShapes.I), is1 = is0;
            int y0 = r0 * k + 256 * b, y1 = r1 * k + 256 * b;
            for (int j = 0; j < 8; j++, y0 += 32, y1 += 32) {
                long p = o + 16 + 16L * (j & ~1);
                int sh = 4 * (j & 1);
                ShortVector x0 = load16(w, p).lanewise(VectorOperators.ASHR, sh).and((short) 0xF);
                ShortVector x1 = load16(w, p + 16).lanewise(VectorOperators.ASHR, sh).and((short) 0xF);
                int scale = (int) (sc >>> (8 * j)) & 0xFF;
                is0 = is0.add(QuantDotK.madd16(x0.mul(act(q, y0)).add(x1.mul(act(q, y0 + 16)))).mul(scale));
                is1 = is1.add(QuantDotK.madd16(x0.mul(act(q, y1)).add(x1.mul(act(q, y1 + 16)))).mul(scale));
            }
            float dw = Float.float16ToFloat((short) l0), dmin = Float.float16ToFloat((short) (l0 >>> 16));
            float dy0 = a.d[da0 + b], dy1 = a.d[da1 + b];
            acc0 = fmaS(is0, dw * dy0, acc0);
            acc1 = fmaS(is1, dw * dy1, acc1);
            long mins = QuantDotK.mins8(u1, u2);
            mins0 += dmin * dy0 * minSum(mins, bsums, bs0 + 16 * b);
            mins1 += dmin * dy1 * minSum(mins, bsums, bs1 + 16 * b);
        }
        out[o0] = Lanes.sumFI(acc0) - mins0;
        out[o1] = Lanes.sumFI(acc1) - mins1;
    }

    /** {@link QuantDotK#dotQ6_K} for activation rows r0 and r1 (one group of 16 per inner iteration). */
    static void dot2Q6_K(MemorySegment w, long off, Q8Activations a, int r0, int r1, int k, float[] out, int o0, int o1) {
        short[] q = a.q;
        int[] bsums = a.bsums;
        int nb = k / 256, bs0 = r0 * (k / 16), bs1 = r1 * (k / 16), da0 = r0 * nb, da1 = r1 * nb;
        FloatVector acc0 = FloatVector.zero(QuantDot.F256), acc1 = acc0;
        float offs0 = 0, offs1 = 0;
        for (int b = 0; b < nb; b++) {
            long o = off + 210L * b;
            IntVector is0 = IntVector.zero(VectorShapes.I), is1 = is0;
            int osum0 = 0, osum1 = 0;
            int y0 = r0 * k + 256 * b, y1 = r1 * k + 256 * b, bo0 = bs0 + 16 * b, bo1 = bs1 + 16 * b;
            long sc = w.get(QuantDot.I64, o + 192);
            for (int g = 0; g < 16; g++, y0 += 16, y1 += 16, sc >>= 8) {
                if (g == 8) sc = w.get(QuantDot.I64, o + 200);
                int kind = (g >> 1) & 3, n = g >> 3, half = g & 1;
                long ql = o + 64L * n + 32 * (kind & 1) + 16 * half, qh = o + 128 + 32L * n + 16 * half;
                ShortVector q6 = load16(w, ql).lanewise(VectorOperators.ASHR, 4 * (kind >> 1)).and((short) 0xF)
                        .or(load16(w, qh).lanewise(VectorOperators.ASHR, 2 * kind).and((short) 3).lanewise(VectorOperators.LSHL, 4));
                int s = (byte) sc;
                is0 = is0.add(QuantDotK.madd16(q6.mul(act(q, y0))).mul(s));
                is1 = is1.add(QuantDotK.madd16(q6.mul(act(q, y1))).mul(s));
                osum0 += s * bsums[bo0 + g];
                osum1 += s * bsums[bo1 + g];
            }
            float hw = h(w, o + 208);
            float dd0 = hw * a.d[da0 + b], dd1 = hw * a.d[da1 + b];
            acc0 = fmaS(is0, dd0, acc0);
            acc1 = fmaS(is1, dd1, acc1);
            offs0 += dd0 * 32 * osum0;
            offs1 += dd1 * 32 * osum1;
        }
        out[o0] = Lanes.sumFI(acc0) - offs0;
        out[o1] = Lanes.sumFI(acc1) - offs1;
    }
}
