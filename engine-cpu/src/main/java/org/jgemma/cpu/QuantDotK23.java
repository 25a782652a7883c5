package org.jgemma.cpu;

import static org.jgemma.cpu.QuantDot.S256;
import static org.jgemma.cpu.QuantDot.fmaS;
import static org.jgemma.cpu.QuantDot.h;
import static org.jgemma.cpu.QuantDot.load16;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q2_K × Q8_K and Q3_K × Q8_K dot products (fast twins of {@link QuantDotReference#dotQ2_K} / {@code dotQ3_K}, which
 * follow ggml-cpu/quants.c :: ggml_vec_dot_q2_K_q8_K_generic / ggml_vec_dot_q3_K_q8_K_generic). One loop over the 16
 * groups of 16 of a super-block, as {@link QuantDotK#dotQ6_K}: the group's 2-bit (and, for Q3_K, high-bit) values are
 * shifted out of 16 bytes in 16-bit lanes, multiplied by the activations (|q2·q8| ≤ 3·127, |q3·q8| ≤ 4·127: pairs
 * fit 16 bits, summed by {@link QuantDotK#madd16}), then by the group's scale in int lanes.
 */
final class QuantDotK23 {
    private QuantDotK23() {}

    private static final VectorSpecies<Integer> I256 = VectorShapes.I;

    private static ShortVector act(short[] q, int y) {
        return ShortVector.fromArray(S256, q, y);
    }

    /**
     * block_q2_K (84 bytes): scales[16] @0 (low nibble scale, high nibble min), qs[64] @16, d @80, dmin @82. Group g:
     * chunk g / 8 of 128 (qs + 32 (g / 8)), shift 2 ((g / 2) % 4), bytes 16 (g % 2) .. +16; its scale is scales[g].
     */
    static float dotQ2_K(MemorySegment w, long off, Q8Activations a, int r, int k) {
        short[] q = a.q;
        int[] bsums = a.bsums;
        int nb = k / 256, qa = r * k, bs = r * (k / 16), da = r * nb;
        FloatVector acc = FloatVector.zero(QuantDot.F256);
        float mins = 0;
        for (int b = 0; b < nb; b++) {
            long o = off + 84L * b;
            long s0 = w.get(QuantDot.I64, o), s1 = w.get(QuantDot.I64, o + 8);
            IntVector isum = IntVector.zero(I256);
            int summs = 0, y = qa + 256 * b, bo = bs + 16 * b;
            long sc = s0;
            for (int g = 0; g < 16; g++, y += 16, sc >>>= 8) {
                if (g == 8) sc = s1;
                long p = o + 16 + 32L * (g >> 3) + 16 * (g & 1);
                int s = (int) sc & 0xFF;
                ShortVector v = load16(w, p).lanewise(VectorOperators.ASHR, 2 * ((g >> 1) & 3)).and((short) 3);
                isum = isum.add(QuantDotK.madd16(v.mul(act(q, y))).mul(s & 0xF));
                summs += bsums[bo + g] * (s >> 4);
            }
            float dy = a.d[da + b];
            acc = fmaS(isum, h(w, o + 80) * dy, acc);
            mins += h(w, o + 82) * dy * summs;
        }
        return Lanes.sumFI(acc) - mins;
    }

    /**
     * block_q3_K (110 bytes): hmask[32] @0, qs[64] @32, scales[12] @96 (16 six-bit scales, offset 32), d @108. Group g:
     * low bits as Q2_K's (qs + 32 (g / 8), shift 2 ((g / 2) % 4)), high bit = bit 4 (g / 8) + (g / 2) % 4 of
     * hmask[16 (g % 2) ..]; value = low - (high ? 0 : 4).
     */
    static float dotQ3_K(MemorySegment w, long off, Q8Activations a, int r, int k) {
        short[] q = a.q;
        int nb = k / 256, qa = r * k, da = r * nb;
        FloatVector acc = FloatVector.zero(QuantDot.F256);
        for (int b = 0; b < nb; b++) {
            long o = off + 110L * b;
            int a0 = w.get(QuantDot.I32, o + 96), a1 = w.get(QuantDot.I32, o + 100), tmp = w.get(QuantDot.I32, o + 104);
            final int m1 = 0x03030303, m2 = 0x0f0f0f0f;
            long lo = ((a0 & m2) | ((tmp & m1) << 4)) & 0xFFFFFFFFL | (long) ((a1 & m2) | (((tmp >>> 2) & m1) << 4)) << 32;
            long hi = (((a0 >>> 4) & m2) | (((tmp >>> 4) & m1) << 4)) & 0xFFFFFFFFL | (long) (((a1 >>> 4) & m2) | (((tmp >>> 6) & m1) << 4)) << 32;
            IntVector isum = IntVector.zero(I256);
            int y = qa + 256 * b;
            long sc = lo;
            for (int g = 0; g < 16; g++, y += 16, sc >>>= 8) {
                if (g == 8) sc = hi;
                int j = (g >> 1) & 3, c = g >> 3, half = g & 1;
                ShortVector low = load16(w, o + 32 + 32L * c + 16 * half).lanewise(VectorOperators.ASHR, 2 * j).and((short) 3);
                ShortVector high = load16(w, o + 16L * half).lanewise(VectorOperators.ASHR, 4 * c + j).and((short) 1);
                ShortVector v = low.add(high.lanewise(VectorOperators.LSHL, 2)).sub((short) 4);
                isum = isum.add(QuantDotK.madd16(v.mul(act(q, y))).mul(((int) sc & 0xFF) - 32));
            }
            acc = fmaS(isum, h(w, o + 108) * a.d[da + b], acc);
        }
        return Lanes.sumFI(acc);
    }
}
