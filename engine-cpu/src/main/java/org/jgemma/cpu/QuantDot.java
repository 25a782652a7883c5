package org.jgemma.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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

    /** 16 weight bytes per load, 16 short lanes, 8 int and float lanes: only where {@link VectorShapes#INT8_WIDE}. */
    static final VectorSpecies<Byte> B128 = VectorShapes.B;
    static final VectorSpecies<Short> S256 = VectorShapes.S;
    static final VectorSpecies<Float> F256 = VectorShapes.FI;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE);
    private static final ShortVector POW; // lane j: 1 << (15 - j), moves bit j to the sign bit

    static {
        short[] p = new short[16];
        for (int j = 0; j < 16; j++) p[j] = (short) (1 << (15 - j));
        POW = ShortVector.fromArray(S256, p, 0);
    }

    static float dot(GgmlType type, MemorySegment w, long off, Q8Activations a, int r, int k) {
        if (!VectorShapes.INT8_WIDE) return QuantDotReference.dot(type, w, off, a, r, k); // 128-bit vectors: see VectorShapes
        return switch (type) {
            case Q8_0 -> dotQ8_0(w, off, a, r, k);
            case Q4_0 -> dotQ4_0(w, off, a, r, k);
            case Q5_0 -> dotQ5_0(w, off, a, r, k);
            case Q4_1 -> dotQ4_1(w, off, a, r, k);
            case Q5_1 -> dotQ5_1(w, off, a, r, k);
            case Q2_K -> QuantDotK23.dotQ2_K(w, off, a, r, k);
            case Q3_K -> QuantDotK23.dotQ3_K(w, off, a, r, k);
            case Q4_K -> QuantDotK.dotQ4_K(w, off, a, r, k);
            case Q5_K -> QuantDotK.dotQ5_K(w, off, a, r, k);
            case Q6_K -> QuantDotK.dotQ6_K(w, off, a, r, k);
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
        return Float.float16ToFloat(w.get(I16, o));
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
        return Lanes.sumFI(acc0.add(acc1));
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
            IntVector s = QuantDotK.madd16(lo.mul(ShortVector.fromArray(S256, q, y)).add(hi.mul(ShortVector.fromArray(S256, q, y + 16))));
            acc = fmaS(s, h(w, o) * a.d[da + b], acc);
        }
        return Lanes.sumFI(acc);
    }

    /** 0 or 16 per lane: bit j of {@code bits} (lane j) moved to value 16. */
    private static ShortVector high16(int bits) {
        return ShortVector.broadcast(S256, (short) bits).mul(POW).lanewise(VectorOperators.ASHR, 15).and((short) 16);
    }

    /** 16 bytes at {@code o}, zero-extended to 16 shorts. */
    static ShortVector load16u(MemorySegment w, long o) {
        return (ShortVector) ByteVector.fromMemorySegment(B128, w, o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
    }

    /** 0xFFF0 (-16 above a nibble) per lane j whose bit j of {@code bits} is set, else 0. */
    private static ShortVector minus16(int bits) {
        return ShortVector.broadcast(S256, (short) bits).mul(POW).lanewise(VectorOperators.ASHR, 15).and((short) 0xFFF0);
    }

    /**
     * Q5_0: q - 16 = nibble | 0xFFF0 where the 5th bit is clear, so the offset costs no subtraction (ggml's AVX2
     * ggml_vec_dot_q5_0_q8_0 does the same in bytes: andnot(bits, 0xF0) | nibble). Weight bytes are zero-extended so the
     * high nibble needs only a shift.
     */
    static float dotQ5_0(MemorySegment w, long off, Q8Activations a, int r, int k) {
        short[] q = a.q;
        int qa = r * k, da = r * (k / 32), nb = k / 32;
        FloatVector acc = FloatVector.zero(F256);
        for (int b = 0; b < nb; b++) {
            long o = off + 22L * b;
            long hdr = w.get(I64, o); // d (f16), qh (32 bits), qs[0..1]: one checked read instead of two (~5% faster)
            acc = fmaS(blockQ5_0(w, o, ~(int) (hdr >>> 16), q, qa + 32 * b), Float.float16ToFloat((short) hdr) * a.d[da + b], acc);
        }
        return Lanes.sumFI(acc);
    }

    /** Σ (q5 - 16)·q8 of the Q5_0 block at o (high bits {@code clear} inverted) with the activations q[y..y+32), in 8 int lanes. */
    private static IntVector blockQ5_0(MemorySegment w, long o, int clear, short[] q, int y) {
        ShortVector v = load16u(w, o + 6);
        ShortVector lo = v.and((short) 0xF).or(minus16(clear));
        ShortVector hi = v.lanewise(VectorOperators.LSHR, 4).or(minus16(clear >>> 16));
        return QuantDotK.madd16(lo.mul(ShortVector.fromArray(S256, q, y)).add(hi.mul(ShortVector.fromArray(S256, q, y + 16))));
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
            IntVector s = QuantDotK.madd16(lo.mul(ShortVector.fromArray(S256, q, y)).add(hi.mul(ShortVector.fromArray(S256, q, y + 16))));
            acc = fmaS(s, h(w, o) * a.d[da + b], acc);
            mins += h(w, o + 2) * a.s[da + b];
        }
        return Lanes.sumFI(acc) + mins;
    }

    static float dotQ5_1(MemorySegment w, long off, Q8Activations a, int r, int k) {
        short[] q = a.q;
        int qa = r * k, da = r * (k / 32), nb = k / 32;
        FloatVector acc = FloatVector.zero(F256);
        float mins = 0;
        for (int b = 0; b < nb; b++) {
            long o = off + 24L * b;
            int y = qa + 32 * b;
            int qh = w.get(I32, o + 4);
            ShortVector v = load16(w, o + 8);
            ShortVector lo = v.and((short) 0xF).or(high16(qh));
            ShortVector hi = v.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).or(high16(qh >>> 16));
            IntVector s = QuantDotK.madd16(lo.mul(ShortVector.fromArray(S256, q, y)).add(hi.mul(ShortVector.fromArray(S256, q, y + 16))));
            acc = fmaS(s, h(w, o) * a.d[da + b], acc);
            mins += h(w, o + 2) * a.s[da + b];
        }
        return Lanes.sumFI(acc) + mins;
    }

}
