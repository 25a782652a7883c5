package org.jgemma.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jgemma.ggml.GgmlType;

/**
 * Int8 dot products of one packed weight row with one quantized activation row, read straight from the weights'
 * MemorySegment (fast twins of {@link QuantDotReference}). AVX2 has no VNNI and the Vector API no pmaddubsw, so:
 * 16 weight bytes are loaded and sign-extended to a 16-lane short vector (vpmovsxbw), multiplied with the int16
 * activations (vpmullw; every product of two adjacent blocks still fits in 16 bits), and pairs of shorts are
 * summed into ints ({@link #madd}, the emulation of pmaddwd). Block scales are applied in float lanes; the lanes are
 * reduced once per row. Where the reference subtracts a constant offset (Q6_K's 32) we use the activation block sums
 * instead, as ggml's AVX2 kernels do.
 */
final class QuantDot {
    private QuantDot() {}

    static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
    static final VectorSpecies<Short> S256 = ShortVector.SPECIES_256;
    static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ShortVector POW; // lane j: 1 << (15 - j), moves bit j to the sign bit

    static {
        short[] p = new short[16];
        for (int j = 0; j < 16; j++) p[j] = (short) (1 << (15 - j));
        POW = ShortVector.fromArray(S256, p, 0);
    }

    static float dot(GgmlType type, MemorySegment w, long off, Q8Activations a, int r, int k) {
        return switch (type) {
            case Q8_0 -> dotQ8_0(w, off, a, r, k);
            case Q4_0 -> dotQ4_0(w, off, a, r, k);
            case Q5_0 -> dotQ5_0(w, off, a, r, k);
            case Q4_1 -> dotQ4_1(w, off, a, r, k);
            case Q5_1 -> dotQ5_1(w, off, a, r, k);
            case Q4_K -> dotQ4_K(w, off, a, r, k);
            case Q5_K -> dotQ5_K(w, off, a, r, k);
            case Q6_K -> dotQ6_K(w, off, a, r, k);
            default -> throw new IllegalArgumentException("no int8 dot product for " + type);
        };
    }

    /** 16 bytes at {@code o}, sign-extended to 16 shorts. */
    static ShortVector load16(MemorySegment w, long o) {
        return (ShortVector) ByteVector.fromMemorySegment(B128, w, o, LE).convertShape(VectorOperators.B2S, S256, 0);
    }

    /** Sums adjacent pairs of short lanes into 8 int lanes (pmaddwd with ones). */
    static IntVector madd(ShortVector p) {
        IntVector i = p.reinterpretAsInts();
        return i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16));
    }

    static FloatVector toFloat(IntVector v) {
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }

    /** acc + float(s) · scale. */
    static FloatVector fmaS(IntVector s, float scale, FloatVector acc) {
        return toFloat(s).fma(FloatVector.broadcast(F256, scale), acc);
    }

    static float h(MemorySegment w, long o) {
        return Float.float16ToFloat(w.get(QuantDotReference.I16, o));
    }

    static float dotQ8_0(MemorySegment w, long off, Q8Activations a, int r, int k) {
        short[] q = a.q;
        int qa = r * k, da = r * (k / 32), nb = k / 32;
        FloatVector acc0 = FloatVector.zero(F256), acc1 = FloatVector.zero(F256);
        int b = 0;
        for (; b + 1 < nb; b += 2) {
            long o = off + 34L * b;
            int y = qa + 32 * b;
            IntVector s0 = madd(load16(w, o + 2).mul(ShortVector.fromArray(S256, q, y))
                    .add(load16(w, o + 18).mul(ShortVector.fromArray(S256, q, y + 16))));
            IntVector s1 = madd(load16(w, o + 36).mul(ShortVector.fromArray(S256, q, y + 32))
                    .add(load16(w, o + 52).mul(ShortVector.fromArray(S256, q, y + 48))));
            acc0 = fmaS(s0, h(w, o) * a.d[da + b], acc0);
            acc1 = fmaS(s1, h(w, o + 34) * a.d[da + b + 1], acc1);
        }
        for (; b < nb; b++) {
            long o = off + 34L * b;
            int y = qa + 32 * b;
            IntVector s0 = madd(load16(w, o + 2).mul(ShortVector.fromArray(S256, q, y))
                    .add(load16(w, o + 18).mul(ShortVector.fromArray(S256, q, y + 16))));
            acc0 = fmaS(s0, h(w, o) * a.d[da + b], acc0);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    static float dotQ4_0(MemorySegment w, long off, Q8Activations a, int r, int k) {
        short[] q = a.q;
        int qa = r * k, da = r * (k / 32), nb = k / 32;
        FloatVector acc = FloatVector.zero(F256);
        for (int b = 0; b < nb; b++) {
            long o = off + 18L * b;
            int y = qa + 32 * b;
            ShortVector v = load16(w, o + 2);
            ShortVector lo = v.and((short) 0xF).sub((short) 8);
            ShortVector hi = v.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).sub((short) 8);
            IntVector s = madd(lo.mul(ShortVector.fromArray(S256, q, y)).add(hi.mul(ShortVector.fromArray(S256, q, y + 16))));
            acc = fmaS(s, h(w, o) * a.d[da + b], acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** 0 or 16 per lane: bit j of {@code bits} (lane j) moved to value 16. */
    private static ShortVector high16(int bits) {
        return ShortVector.broadcast(S256, (short) bits).mul(POW).lanewise(VectorOperators.ASHR, 15).and((short) 16);
    }

    static float dotQ5_0(MemorySegment w, long off, Q8Activations a, int r, int k) {
        short[] q = a.q;
        int qa = r * k, da = r * (k / 32), nb = k / 32;
        FloatVector acc = FloatVector.zero(F256);
        for (int b = 0; b < nb; b++) {
            long o = off + 22L * b;
            int y = qa + 32 * b;
            int qh = w.get(QuantDotReference.I32, o + 2);
            ShortVector v = load16(w, o + 6);
            ShortVector lo = v.and((short) 0xF).or(high16(qh)).sub((short) 16);
            ShortVector hi = v.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).or(high16(qh >>> 16)).sub((short) 16);
            IntVector s = madd(lo.mul(ShortVector.fromArray(S256, q, y)).add(hi.mul(ShortVector.fromArray(S256, q, y + 16))));
            acc = fmaS(s, h(w, o) * a.d[da + b], acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static float dotQ4_1(MemorySegment w, long off, Q8Activations a, int r, int k) {
        short[] q = a.q;
        int qa = r * k, da = r * (k / 32), nb = k / 32;
        FloatVector acc = FloatVector.zero(F256);
        float mins = 0;
        for (int b = 0; b < nb; b++) {
            long o = off + 20L * b;
            int y = qa + 32 * b;
            ShortVector v = load16(w, o + 4);
            ShortVector lo = v.and((short) 0xF);
            ShortVector hi = v.lanewise(VectorOperators.ASHR, 4).and((short) 0xF);
            IntVector s = madd(lo.mul(ShortVector.fromArray(S256, q, y)).add(hi.mul(ShortVector.fromArray(S256, q, y + 16))));
            acc = fmaS(s, h(w, o) * a.d[da + b], acc);
            mins += h(w, o + 2) * a.s[da + b];
        }
        return acc.reduceLanes(VectorOperators.ADD) + mins;
    }

    static float dotQ5_1(MemorySegment w, long off, Q8Activations a, int r, int k) {
        short[] q = a.q;
        int qa = r * k, da = r * (k / 32), nb = k / 32;
        FloatVector acc = FloatVector.zero(F256);
        float mins = 0;
        for (int b = 0; b < nb; b++) {
            long o = off + 24L * b;
            int y = qa + 32 * b;
            int qh = w.get(QuantDotReference.I32, o + 4);
            ShortVector v = load16(w, o + 8);
            ShortVector lo = v.and((short) 0xF).or(high16(qh));
            ShortVector hi = v.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).or(high16(qh >>> 16));
            IntVector s = madd(lo.mul(ShortVector.fromArray(S256, q, y)).add(hi.mul(ShortVector.fromArray(S256, q, y + 16))));
            acc = fmaS(s, h(w, o) * a.d[da + b], acc);
            mins += h(w, o + 2) * a.s[da + b];
        }
        return acc.reduceLanes(VectorOperators.ADD) + mins;
    }

    /** Byte {@code i} (0..11) of a K-quant scales[12] read as a long (bytes 0..7) and an int (8..11). */
    private static int sb(long lo, int hi, int i) {
        return i < 8 ? (int) (lo >>> (8 * i)) & 0xFF : (hi >>> (8 * (i - 8))) & 0xFF;
    }

    /** get_scale_min_k4: scale (min == false) or min of sub-block j. */
    static int scaleK4(long lo, int hi, int j, boolean min) {
        if (j < 4) return min ? sb(lo, hi, j + 4) & 63 : sb(lo, hi, j) & 63;
        return min ? (sb(lo, hi, j + 4) >> 4) | ((sb(lo, hi, j) >> 6) << 4)
                : (sb(lo, hi, j + 4) & 0xF) | ((sb(lo, hi, j - 4) >> 6) << 4);
    }

    static float dotQ4_K(MemorySegment w, long off, Q8Activations a, int r, int k) {
        return dotQ45K(w, off, a, r, k, false);
    }

    static float dotQ5_K(MemorySegment w, long off, Q8Activations a, int r, int k) {
        return dotQ45K(w, off, a, r, k, true);
    }

    private static float dotQ45K(MemorySegment w, long off, Q8Activations a, int r, int k, boolean five) {
        short[] q = a.q;
        int[] bsums = a.bsums;
        int qa = r * k, nb = k / 256, bs = r * (k / 16);
        int bytes = five ? 176 : 144, qsOff = five ? 48 : 16;
        FloatVector acc = FloatVector.zero(F256);
        float mins = 0;
        for (int b = 0; b < nb; b++) {
            long o = off + (long) bytes * b;
            long slo = w.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE), o + 4);
            int shi = w.get(QuantDotReference.I32, o + 12);
            ShortVector qh0 = ShortVector.zero(S256), qh1 = ShortVector.zero(S256);
            if (five) {
                qh0 = load16(w, o + 16);
                qh1 = load16(w, o + 32);
            }
            IntVector isum = IntVector.zero(IntVector.SPECIES_256);
            int msum = 0;
            for (int c = 0; c < 4; c++) {
                int y = qa + 256 * b + 64 * c;
                ShortVector v0 = load16(w, o + qsOff + 32 * c), v1 = load16(w, o + qsOff + 32 * c + 16);
                ShortVector lo0 = v0.and((short) 0xF), lo1 = v1.and((short) 0xF);
                ShortVector hi0 = v0.lanewise(VectorOperators.ASHR, 4).and((short) 0xF);
                ShortVector hi1 = v1.lanewise(VectorOperators.ASHR, 4).and((short) 0xF);
                if (five) {
                    lo0 = lo0.or(qh0.lanewise(VectorOperators.ASHR, 2 * c).and((short) 1).lanewise(VectorOperators.LSHL, 4));
                    lo1 = lo1.or(qh1.lanewise(VectorOperators.ASHR, 2 * c).and((short) 1).lanewise(VectorOperators.LSHL, 4));
                    hi0 = hi0.or(qh0.lanewise(VectorOperators.ASHR, 2 * c + 1).and((short) 1).lanewise(VectorOperators.LSHL, 4));
                    hi1 = hi1.or(qh1.lanewise(VectorOperators.ASHR, 2 * c + 1).and((short) 1).lanewise(VectorOperators.LSHL, 4));
                }
                ShortVector pl = lo0.mul(ShortVector.fromArray(S256, q, y)).add(lo1.mul(ShortVector.fromArray(S256, q, y + 16)));
                ShortVector ph = hi0.mul(ShortVector.fromArray(S256, q, y + 32)).add(hi1.mul(ShortVector.fromArray(S256, q, y + 48)));
                int sl = scaleK4(slo, shi, 2 * c, false), sh = scaleK4(slo, shi, 2 * c + 1, false);
                isum = isum.add(madd(pl).mul(sl)).add(madd(ph).mul(sh));
                int bo = bs + 16 * b + 4 * c;
                msum += scaleK4(slo, shi, 2 * c, true) * (bsums[bo] + bsums[bo + 1])
                        + scaleK4(slo, shi, 2 * c + 1, true) * (bsums[bo + 2] + bsums[bo + 3]);
            }
            float dy = a.d[r * nb + b];
            acc = fmaS(isum, h(w, o) * dy, acc);
            mins += h(w, o + 2) * dy * msum;
        }
        return acc.reduceLanes(VectorOperators.ADD) - mins;
    }

    static float dotQ6_K(MemorySegment w, long off, Q8Activations a, int r, int k) {
        short[] q = a.q;
        int[] bsums = a.bsums;
        int qa = r * k, nb = k / 256, bs = r * (k / 16);
        FloatVector acc = FloatVector.zero(F256);
        float offs = 0;
        for (int b = 0; b < nb; b++) {
            long o = off + 210L * b;
            IntVector isum = IntVector.zero(IntVector.SPECIES_256);
            int osum = 0;
            for (int n = 0; n < 2; n++) {
                long ql = o + 64L * n, qhp = o + 128 + 32L * n, sc = o + 192 + 8L * n;
                int y = qa + 256 * b + 128 * n;
                ShortVector l0 = load16(w, ql), l1 = load16(w, ql + 16), l2 = load16(w, ql + 32), l3 = load16(w, ql + 48);
                ShortVector h0 = load16(w, qhp), h1 = load16(w, qhp + 16);
                ShortVector q1a = l0.and((short) 0xF).or(h0.and((short) 3).lanewise(VectorOperators.LSHL, 4));
                ShortVector q1b = l1.and((short) 0xF).or(h1.and((short) 3).lanewise(VectorOperators.LSHL, 4));
                ShortVector q2a = l2.and((short) 0xF).or(h0.and((short) 12).lanewise(VectorOperators.LSHL, 2));
                ShortVector q2b = l3.and((short) 0xF).or(h1.and((short) 12).lanewise(VectorOperators.LSHL, 2));
                ShortVector q3a = l0.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).or(h0.and((short) 48));
                ShortVector q3b = l1.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).or(h1.and((short) 48));
                ShortVector q4a = l2.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).or(h0.lanewise(VectorOperators.ASHR, 2).and((short) 48));
                ShortVector q4b = l3.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).or(h1.lanewise(VectorOperators.ASHR, 2).and((short) 48));
                int s0 = w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc), s1 = w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + 1);
                int s2 = w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + 2), s3 = w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + 3);
                int s4 = w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + 4), s5 = w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + 5);
                int s6 = w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + 6), s7 = w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + 7);
                isum = isum.add(madd(q1a.mul(ShortVector.fromArray(S256, q, y))).mul(s0))
                        .add(madd(q1b.mul(ShortVector.fromArray(S256, q, y + 16))).mul(s1))
                        .add(madd(q2a.mul(ShortVector.fromArray(S256, q, y + 32))).mul(s2))
                        .add(madd(q2b.mul(ShortVector.fromArray(S256, q, y + 48))).mul(s3))
                        .add(madd(q3a.mul(ShortVector.fromArray(S256, q, y + 64))).mul(s4))
                        .add(madd(q3b.mul(ShortVector.fromArray(S256, q, y + 80))).mul(s5))
                        .add(madd(q4a.mul(ShortVector.fromArray(S256, q, y + 96))).mul(s6))
                        .add(madd(q4b.mul(ShortVector.fromArray(S256, q, y + 112))).mul(s7));
                int bo = bs + 16 * b + 8 * n;
                osum += s0 * bsums[bo] + s1 * bsums[bo + 1] + s2 * bsums[bo + 2] + s3 * bsums[bo + 3]
                        + s4 * bsums[bo + 4] + s5 * bsums[bo + 5] + s6 * bsums[bo + 6] + s7 * bsums[bo + 7];
            }
            float dd = h(w, o + 208) * a.d[r * nb + b];
            acc = fmaS(isum, dd, acc);
            offs += dd * 32 * osum;
        }
        return acc.reduceLanes(VectorOperators.ADD) - offs;
    }
}
