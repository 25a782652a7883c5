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
import jdk.incubator.vector.VectorSpecies;

/**
 * K-quant × Q8_K dot products (fast twins of the K-quant methods of {@link QuantDotReference}), one super-block of
 * 256 per loop iteration. Written for C2: each kernel is one small method with a short inner loop over 64-element
 * chunks, constant species, the 12 packed scale bytes unpacked once per super-block into two longs (8 scales, 8 mins,
 * one byte each, as ggml's AVX2 kernel does with its utmp[] trick) and the mins applied through the Q8_K bsums.
 * Products stay in 16-bit lanes while they provably fit (q4·q8 ≤ 15·127, two of them per lane; q6·q8 ≤ 63·127, two
 * per lane), then pairs are summed into ints and multiplied by the sub-block scale.
 */
final class QuantDotK {
    private QuantDotK() {}

    private static final VectorSpecies<Integer> I256 = VectorShapes.I;
    private static final int KMASK1 = 0x3f3f3f3f, KMASK2 = 0x0f0f0f0f, KMASK3 = 0x03030303;

    /** The 8 six-bit scales of a Q4_K/Q5_K scales[12] (bytes u0 u1 u2), one per byte (ggml's utmp[0..1]). */
    static long scales8(int u0, int u1, int u2) {
        int lo = u0 & KMASK1;
        int hi = (u2 & KMASK2) | (((u0 >>> 6) & KMASK3) << 4);
        return (lo & 0xFFFFFFFFL) | ((long) hi << 32);
    }

    /** The 8 six-bit mins, one per byte (ggml's utmp[2..3]). */
    static long mins8(int u1, int u2) {
        int lo = u1 & KMASK1;
        int hi = ((u2 >>> 4) & KMASK2) | (((u1 >>> 6) & KMASK3) << 4);
        return (lo & 0xFFFFFFFFL) | ((long) hi << 32);
    }

    /** Σ_j mins[j] · (bsums[bo + 2j] + bsums[bo + 2j + 1]) over the 8 sub-blocks of 32. */
    private static int minSum(long mins, int[] bsums, int bo) {
        int s = 0;
        for (int j = 0; j < 8; j++) s += (int) ((mins >>> (8 * j)) & 0xFF) * (bsums[bo + 2 * j] + bsums[bo + 2 * j + 1]);
        return s;
    }

    private static ShortVector act(short[] q, int y) {
        return ShortVector.fromArray(S256, q, y);
    }

    static float dotQ4_K(MemorySegment w, long off, Q8Activations a, int r, int k) {
        short[] q = a.q;
        int[] bsums = a.bsums;
        int nb = k / 256, qa = r * k, bs = r * (k / 16), da = r * nb;
        FloatVector acc = FloatVector.zero(QuantDot.F256);
        float mins = 0;
        for (int b = 0; b < nb; b++) {
            long o = off + 144L * b;
            long l0 = w.get(QuantDot.I64, o), l1 = w.get(QuantDot.I64, o + 8); // d, dmin, scales[12]: 2 checked reads, not 5
            int u0 = (int) (l0 >>> 32), u1 = (int) l1, u2 = (int) (l1 >>> 32);
            long sc = scales8(u0, u1, u2);
            IntVector isum = IntVector.zero(I256);
            int y = qa + 256 * b;
            for (int j = 0; j < 8; j++, y += 32) { // sub-block j: nibble (j & 1) of the 32 bytes of chunk j / 2
                long p = o + 16 + 16L * (j & ~1);
                int sh = 4 * (j & 1);
                ShortVector p0 = load16(w, p).lanewise(VectorOperators.ASHR, sh).and((short) 0xF).mul(act(q, y));
                ShortVector p1 = load16(w, p + 16).lanewise(VectorOperators.ASHR, sh).and((short) 0xF).mul(act(q, y + 16));
                isum = isum.add(madd16(p0.add(p1)).mul((int) (sc >>> (8 * j)) & 0xFF));
            }
            float dy = a.d[da + b];
            acc = fmaS(isum, Float.float16ToFloat((short) l0) * dy, acc);
            mins += Float.float16ToFloat((short) (l0 >>> 16)) * dy * minSum(mins8(u1, u2), bsums, bs + 16 * b);
        }
        return Lanes.sumFI(acc) - mins;
    }

    static float dotQ5_K(MemorySegment w, long off, Q8Activations a, int r, int k) {
        short[] q = a.q;
        int[] bsums = a.bsums;
        int nb = k / 256, qa = r * k, bs = r * (k / 16), da = r * nb;
        FloatVector acc = FloatVector.zero(QuantDot.F256);
        float mins = 0;
        for (int b = 0; b < nb; b++) {
            long o = off + 176L * b;
            long l0 = w.get(QuantDot.I64, o), l1 = w.get(QuantDot.I64, o + 8); // d, dmin, scales[12]: 2 checked reads, not 5
            int u0 = (int) (l0 >>> 32), u1 = (int) l1, u2 = (int) (l1 >>> 32);
            long sc = scales8(u0, u1, u2);
            IntVector isum = IntVector.zero(I256);
            int y = qa + 256 * b;
            for (int j = 0; j < 8; j++, y += 32) { // sub-block j: nibble (j & 1) of chunk j / 2, bit j of qh[0..31]
                long p = o + 48 + 16L * (j & ~1);
                int sh = 4 * (j & 1);
                ShortVector x0 = load16(w, p).lanewise(VectorOperators.ASHR, sh).and((short) 0xF)
                        .or(load16(w, o + 16).lanewise(VectorOperators.ASHR, j).and((short) 1).lanewise(VectorOperators.LSHL, 4));
                ShortVector x1 = load16(w, p + 16).lanewise(VectorOperators.ASHR, sh).and((short) 0xF)
                        .or(load16(w, o + 32).lanewise(VectorOperators.ASHR, j).and((short) 1).lanewise(VectorOperators.LSHL, 4));
                isum = isum.add(madd16(x0.mul(act(q, y)).add(x1.mul(act(q, y + 16)))).mul((int) (sc >>> (8 * j)) & 0xFF));
            }
            float dy = a.d[da + b];
            acc = fmaS(isum, Float.float16ToFloat((short) l0) * dy, acc);
            mins += Float.float16ToFloat((short) (l0 >>> 16)) * dy * minSum(mins8(u1, u2), bsums, bs + 16 * b);
        }
        return Lanes.sumFI(acc) - mins;
    }

    /**
     * Pairs of short lanes summed into int lanes when every pair sum fits in 16 bits: (i + (i << 16)) >> 16 of the
     * int view is hi + lo (the carry of the unsigned low half is shifted out). 3 ops instead of {@link QuantDot#madd}'s 4.
     */
    static IntVector madd16(ShortVector p) {
        IntVector i = p.reinterpretAsInts();
        return i.add(i.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
    }

    static float dotQ6_K(MemorySegment w, long off, Q8Activations a, int r, int k) {
        short[] q = a.q;
        int[] bsums = a.bsums;
        int nb = k / 256, qa = r * k, bs = r * (k / 16), da = r * nb;
        FloatVector acc = FloatVector.zero(QuantDot.F256);
        float offs = 0;
        for (int b = 0; b < nb; b++) {
            long o = off + 210L * b;
            IntVector isum = IntVector.zero(I256);
            int osum = 0;
            int y = qa + 256 * b, bo = bs + 16 * b;
            long sc = w.get(QuantDot.I64, o + 192); // the 16 scales read as two longs, not 16 checked byte reads (~9% faster)
            // group g of 16 (scale g): half n = g / 8, run kind = (g / 2) % 4 (q1..q4 of dequantize_row_q6_K), l0 = 16 (g % 2)
            for (int g = 0; g < 16; g++, y += 16, sc >>= 8) {
                if (g == 8) sc = w.get(QuantDot.I64, o + 200);
                int kind = (g >> 1) & 3, n = g >> 3, half = g & 1;
                long ql = o + 64L * n + 32 * (kind & 1) + 16 * half, qh = o + 128 + 32L * n + 16 * half;
                ShortVector q6 = load16(w, ql).lanewise(VectorOperators.ASHR, 4 * (kind >> 1)).and((short) 0xF)
                        .or(load16(w, qh).lanewise(VectorOperators.ASHR, 2 * kind).and((short) 3).lanewise(VectorOperators.LSHL, 4));
                int s = (byte) sc;
                isum = isum.add(madd16(q6.mul(act(q, y))).mul(s));
                osum += s * bsums[bo + g];
            }
            float dd = h(w, o + 208) * a.d[da + b];
            acc = fmaS(isum, dd, acc);
            offs += dd * 32 * osum;
        }
        return Lanes.sumFI(acc) - offs;
    }
}
