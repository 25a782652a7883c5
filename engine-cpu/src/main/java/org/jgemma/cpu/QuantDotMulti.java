package org.jgemma.cpu;

import static org.jgemma.cpu.QuantDot.F256;
import static org.jgemma.cpu.QuantDot.S256;
import static org.jgemma.cpu.QuantDot.fmaS;
import static org.jgemma.cpu.QuantDot.h;
import static org.jgemma.cpu.QuantDot.load16;
import static org.jgemma.cpu.QuantDot.madd;
import static org.jgemma.cpu.QuantDotK.madd16;
import static org.jgemma.cpu.QuantDotK.mins8;
import static org.jgemma.cpu.QuantDotK.scales8;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import org.jgemma.ggml.GgmlType;

/**
 * One packed weight row dotted with four activation rows at once (a decode step of several sequences): the weight
 * bytes are loaded and unpacked once and used for all four, which is where a batched decode step saves its time on
 * the CPU (ggml's mul_mat with several src1 columns does the same). For each activation row the arithmetic is
 * exactly {@link QuantDot#dot}'s, in the same order, so every result is bit-identical to the one-row kernel
 * ({@code QuantDotMultiTest} checks it): a sequence decoded in a batch gets the logits it gets alone.
 */
final class QuantDotMulti {
    private QuantDotMulti() {}

    /** Whether {@link #dot4} has a kernel for {@code type}; other types use {@link QuantDot#dot} per row. */
    static boolean supports(GgmlType type) {
        return type == GgmlType.Q8_0 || type == GgmlType.Q4_K || type == GgmlType.Q6_K;
    }

    /**
     * {@code out[o_i] = dot(row, activation row t_i)} for i < 4 (rows may repeat; a repeated row's result is written
     * again, identically).
     */
    static void dot4(GgmlType type, MemorySegment w, long off, Q8Activations a, int t0, int t1, int t2, int t3, int k,
                     float[] out, int o0, int o1, int o2, int o3) {
        switch (type) {
            case Q8_0 -> q8_0(w, off, a, t0, t1, t2, t3, k, out, o0, o1, o2, o3);
            case Q4_K -> q4_K(w, off, a, t0, t1, t2, t3, k, out, o0, o1, o2, o3);
            case Q6_K -> q6_K(w, off, a, t0, t1, t2, t3, k, out, o0, o1, o2, o3);
            default -> throw new IllegalArgumentException("no 4-row kernel for " + type);
        }
    }

    private static ShortVector act(short[] q, int y) {
        return ShortVector.fromArray(S256, q, y);
    }

    private static IntVector pair(ShortVector w0, ShortVector w1, short[] q, int y) {
        return madd(w0.mul(act(q, y)).add(w1.mul(act(q, y + 16))));
    }

    /** {@link QuantDot#dotQ8_0} for four activation rows. */
    private static void q8_0(MemorySegment w, long off, Q8Activations a, int t0, int t1, int t2, int t3, int k,
                             float[] out, int o0, int o1, int o2, int o3) {
        short[] q = a.q;
        float[] d = a.d;
        int nb = k / 32;
        int q0 = t0 * k, q1 = t1 * k, q2 = t2 * k, q3 = t3 * k;
        int d0 = t0 * nb, d1 = t1 * nb, d2 = t2 * nb, d3 = t3 * nb;
        FloatVector a00 = FloatVector.zero(F256), a01 = FloatVector.zero(F256), a02 = FloatVector.zero(F256), a03 = FloatVector.zero(F256);
        FloatVector a10 = FloatVector.zero(F256), a11 = FloatVector.zero(F256), a12 = FloatVector.zero(F256), a13 = FloatVector.zero(F256);
        int b = 0;
        for (; b + 1 < nb; b += 2) {
            long o = off + 34L * b;
            int y = 32 * b;
            ShortVector w0 = load16(w, o + 2), w1 = load16(w, o + 18), w2 = load16(w, o + 36), w3 = load16(w, o + 52);
            float h0 = h(w, o), h1 = h(w, o + 34);
            a00 = fmaS(pair(w0, w1, q, q0 + y), h0 * d[d0 + b], a00);
            a10 = fmaS(pair(w2, w3, q, q0 + y + 32), h1 * d[d0 + b + 1], a10);
            a01 = fmaS(pair(w0, w1, q, q1 + y), h0 * d[d1 + b], a01);
            a11 = fmaS(pair(w2, w3, q, q1 + y + 32), h1 * d[d1 + b + 1], a11);
            a02 = fmaS(pair(w0, w1, q, q2 + y), h0 * d[d2 + b], a02);
            a12 = fmaS(pair(w2, w3, q, q2 + y + 32), h1 * d[d2 + b + 1], a12);
            a03 = fmaS(pair(w0, w1, q, q3 + y), h0 * d[d3 + b], a03);
            a13 = fmaS(pair(w2, w3, q, q3 + y + 32), h1 * d[d3 + b + 1], a13);
        }
        for (; b < nb; b++) {
            long o = off + 34L * b;
            int y = 32 * b;
            ShortVector w0 = load16(w, o + 2), w1 = load16(w, o + 18);
            float h0 = h(w, o);
            a00 = fmaS(pair(w0, w1, q, q0 + y), h0 * d[d0 + b], a00);
            a01 = fmaS(pair(w0, w1, q, q1 + y), h0 * d[d1 + b], a01);
            a02 = fmaS(pair(w0, w1, q, q2 + y), h0 * d[d2 + b], a02);
            a03 = fmaS(pair(w0, w1, q, q3 + y), h0 * d[d3 + b], a03);
        }
        out[o0] = Lanes.sum(a00.add(a10));
        out[o1] = Lanes.sum(a01.add(a11));
        out[o2] = Lanes.sum(a02.add(a12));
        out[o3] = Lanes.sum(a03.add(a13));
    }

    /** Σ_j mins[j] · (bsums[bo + 2j] + bsums[bo + 2j + 1]), as QuantDotK.minSum. */
    private static int minSum(long mins, int[] bsums, int bo) {
        int s = 0;
        for (int j = 0; j < 8; j++) s += (int) ((mins >>> (8 * j)) & 0xFF) * (bsums[bo + 2 * j] + bsums[bo + 2 * j + 1]);
        return s;
    }

    /** {@link QuantDotK#dotQ4_K} for four activation rows. */
    private static void q4_K(MemorySegment w, long off, Q8Activations a, int t0, int t1, int t2, int t3, int k,
                             float[] out, int o0, int o1, int o2, int o3) {
        short[] q = a.q;
        int[] bsums = a.bsums;
        float[] d = a.d;
        int nb = k / 256, nbs = k / 16;
        FloatVector c0 = FloatVector.zero(F256), c1 = FloatVector.zero(F256), c2 = FloatVector.zero(F256), c3 = FloatVector.zero(F256);
        float m0 = 0, m1 = 0, m2 = 0, m3 = 0;
        for (int b = 0; b < nb; b++) {
            long o = off + 144L * b;
            long l0 = w.get(QuantDot.I64, o), l1 = w.get(QuantDot.I64, o + 8);
            int u0 = (int) (l0 >>> 32), u1 = (int) l1, u2 = (int) (l1 >>> 32);
            long sc = scales8(u0, u1, u2);
            IntVector s0 = IntVector.zero(IntVector.SPECIES_256), s1 = s0, s2 = s0, s3 = s0;
            int y = 256 * b;
            for (int j = 0; j < 8; j++, y += 32) {
                long p = o + 16 + 16L * (j & ~1);
                int sh = 4 * (j & 1);
                ShortVector x0 = load16(w, p).lanewise(VectorOperators.ASHR, sh).and((short) 0xF);
                ShortVector x1 = load16(w, p + 16).lanewise(VectorOperators.ASHR, sh).and((short) 0xF);
                int scale = (int) (sc >>> (8 * j)) & 0xFF;
                s0 = s0.add(madd16(x0.mul(act(q, t0 * k + y)).add(x1.mul(act(q, t0 * k + y + 16)))).mul(scale));
                s1 = s1.add(madd16(x0.mul(act(q, t1 * k + y)).add(x1.mul(act(q, t1 * k + y + 16)))).mul(scale));
                s2 = s2.add(madd16(x0.mul(act(q, t2 * k + y)).add(x1.mul(act(q, t2 * k + y + 16)))).mul(scale));
                s3 = s3.add(madd16(x0.mul(act(q, t3 * k + y)).add(x1.mul(act(q, t3 * k + y + 16)))).mul(scale));
            }
            float dw = Float.float16ToFloat((short) l0), dmin = Float.float16ToFloat((short) (l0 >>> 16));
            long mins = mins8(u1, u2);
            float dy0 = d[t0 * nb + b], dy1 = d[t1 * nb + b], dy2 = d[t2 * nb + b], dy3 = d[t3 * nb + b];
            c0 = fmaS(s0, dw * dy0, c0);
            c1 = fmaS(s1, dw * dy1, c1);
            c2 = fmaS(s2, dw * dy2, c2);
            c3 = fmaS(s3, dw * dy3, c3);
            m0 += dmin * dy0 * minSum(mins, bsums, t0 * nbs + 16 * b);
            m1 += dmin * dy1 * minSum(mins, bsums, t1 * nbs + 16 * b);
            m2 += dmin * dy2 * minSum(mins, bsums, t2 * nbs + 16 * b);
            m3 += dmin * dy3 * minSum(mins, bsums, t3 * nbs + 16 * b);
        }
        out[o0] = Lanes.sum(c0) - m0;
        out[o1] = Lanes.sum(c1) - m1;
        out[o2] = Lanes.sum(c2) - m2;
        out[o3] = Lanes.sum(c3) - m3;
    }

    /** {@link QuantDotK#dotQ6_K} for four activation rows. */
    private static void q6_K(MemorySegment w, long off, Q8Activations a, int t0, int t1, int t2, int t3, int k,
                             float[] out, int o0, int o1, int o2, int o3) {
        short[] q = a.q;
        int[] bsums = a.bsums;
        float[] d = a.d;
        int nb = k / 256, nbs = k / 16;
        FloatVector c0 = FloatVector.zero(F256), c1 = FloatVector.zero(F256), c2 = FloatVector.zero(F256), c3 = FloatVector.zero(F256);
        float f0 = 0, f1 = 0, f2 = 0, f3 = 0;
        for (int b = 0; b < nb; b++) {
            long o = off + 210L * b;
            IntVector s0 = IntVector.zero(IntVector.SPECIES_256), s1 = s0, s2 = s0, s3 = s0;
            int os0 = 0, os1 = 0, os2 = 0, os3 = 0;
            int y = 256 * b, bo = 16 * b;
            long sc = w.get(QuantDot.I64, o + 192);
            for (int g = 0; g < 16; g++, y += 16, sc >>= 8) {
                if (g == 8) sc = w.get(QuantDot.I64, o + 200);
                int kind = (g >> 1) & 3, n = g >> 3, half = g & 1;
                long ql = o + 64L * n + 32 * (kind & 1) + 16 * half, qh = o + 128 + 32L * n + 16 * half;
                ShortVector q6 = load16(w, ql).lanewise(VectorOperators.ASHR, 4 * (kind >> 1)).and((short) 0xF)
                        .or(load16(w, qh).lanewise(VectorOperators.ASHR, 2 * kind).and((short) 3).lanewise(VectorOperators.LSHL, 4));
                int s = (byte) sc;
                s0 = s0.add(madd16(q6.mul(act(q, t0 * k + y))).mul(s));
                s1 = s1.add(madd16(q6.mul(act(q, t1 * k + y))).mul(s));
                s2 = s2.add(madd16(q6.mul(act(q, t2 * k + y))).mul(s));
                s3 = s3.add(madd16(q6.mul(act(q, t3 * k + y))).mul(s));
                os0 += s * bsums[t0 * nbs + bo + g];
                os1 += s * bsums[t1 * nbs + bo + g];
                os2 += s * bsums[t2 * nbs + bo + g];
                os3 += s * bsums[t3 * nbs + bo + g];
            }
            float hw = h(w, o + 208);
            float dd0 = hw * d[t0 * nb + b], dd1 = hw * d[t1 * nb + b], dd2 = hw * d[t2 * nb + b], dd3 = hw * d[t3 * nb + b];
            c0 = fmaS(s0, dd0, c0);
            c1 = fmaS(s1, dd1, c1);
            c2 = fmaS(s2, dd2, c2);
            c3 = fmaS(s3, dd3, c3);
            f0 += dd0 * 32 * os0;
            f1 += dd1 * 32 * os1;
            f2 += dd2 * 32 * os2;
            f3 += dd3 * 32 * os3;
        }
        out[o0] = Lanes.sum(c0) - f0;
        out[o1] = Lanes.sum(c1) - f1;
        out[o2] = Lanes.sum(c2) - f2;
        out[o3] = Lanes.sum(c3) - f3;
    }
}
