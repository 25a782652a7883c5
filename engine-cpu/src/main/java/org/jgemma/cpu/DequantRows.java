package org.jgemma.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jgemma.ggml.GgmlType;

/**
 * Dequantization of one weight row into a float scratch row (for embedding lookups, the float-weight types and the
 * batched mat-mat path), following ggml-quants.c :: dequantize_row_* (FACTS §2.2): the quants of 8 elements are
 * unpacked in int lanes and scaled in float lanes with the reference's operation order, so the result is bit-identical
 * to org.jgemma.ggml.Dequantize, the project's reference (QuantKernelTest).
 */
final class DequantRows {
    private DequantRows() {}

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(QuantDot.LE);
    private static final VectorSpecies<Integer> I256 = VectorShapes.I8; // 8 lanes: only where VectorShapes.TILES_256
    /** Lane j: j. */
    private static final IntVector IOTA = IntVector.zero(I256).addIndex(1);

    /** 8 bytes at {@code o}, zero-extended to 8 int lanes. */
    private static IntVector u8x8(MemorySegment w, long o) {
        return ((IntVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_64, w, o, QuantDot.LE)
                .convertShape(VectorOperators.B2I, I256, 0)).and(0xFF);
    }

    private static FloatVector toF(IntVector v) {
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }

    /** 6-bit scale j (0..7) of a Q4_K/Q5_K block's 12 scale bytes at {@code so} (get_scale_min_k4). */
    private static int scaleK4(MemorySegment w, long so, int j) {
        return j < 4 ? QuantDotReference.u8(w, so + j) & 63
                : (QuantDotReference.u8(w, so + j + 4) & 0xF) | ((QuantDotReference.u8(w, so + j - 4) >> 6) << 4);
    }

    /** 6-bit min j (0..7), as {@link #scaleK4}. */
    private static int minK4(MemorySegment w, long so, int j) {
        return j < 4 ? QuantDotReference.u8(w, so + j + 4) & 63
                : (QuantDotReference.u8(w, so + j + 4) >> 4) | ((QuantDotReference.u8(w, so + j) >> 6) << 4);
    }

    /** dst[dOff .. dOff+k) = row of {@code k} elements at byte {@code off} of {@code w}. */
    static void row(GgmlType t, MemorySegment w, long off, int k, float[] dst, int dOff) {
        if (!VectorShapes.TILES_256 && t != GgmlType.F32) { // vectors under 256 bits: the 8-lane code would be emulated
            org.jgemma.ggml.Dequantize.dequantizeRow(t, w, off, dst, dOff, k);
            return;
        }
        // one small method per format: C2 compiles and inlines each (one big switch body stays interpreted)
        switch (t) {
            case F32 -> MemorySegment.copy(w, F32, off, dst, dOff, k);
            case F16 -> f16(t, w, off, k, dst, dOff);
            case BF16 -> bf16(t, w, off, k, dst, dOff);
            case Q8_0 -> q8_0(t, w, off, k, dst, dOff);
            case Q4_0, Q4_1 -> q4(t, w, off, k, dst, dOff);
            case Q5_0, Q5_1 -> q5(t, w, off, k, dst, dOff);
            case Q4_K, Q5_K -> qk45(t, w, off, k, dst, dOff);
            case Q6_K -> q6k(t, w, off, k, dst, dOff);
            // rare in gemma3 files (Q2_K / Q3_K_M quantizations): the scalar reference, then float dot products
            case Q2_K, Q3_K -> org.jgemma.ggml.Dequantize.dequantizeRow(t, w, off, dst, dOff, k);
            default -> throw new UnsupportedOperationException("CPU backend cannot read weights of type " + t);
        }
    }

    private static void f16(GgmlType t, MemorySegment w, long off, int k, float[] dst, int dOff) {
        for (int i = 0; i < k; i++) dst[dOff + i] = Float.float16ToFloat(w.get(QuantDotReference.I16, off + 2L * i));
    }

    private static void bf16(GgmlType t, MemorySegment w, long off, int k, float[] dst, int dOff) {
        int i = 0;
        for (; i + 8 <= k; i += 8) {
            ((IntVector) ShortVector.fromMemorySegment(ShortVector.SPECIES_128, w, off + 2L * i, QuantDot.LE)
                    .convertShape(VectorOperators.S2I, I256, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, dOff + i);
        }
        for (; i < k; i++) dst[dOff + i] = Float.intBitsToFloat((w.get(QuantDotReference.I16, off + 2L * i) & 0xFFFF) << 16);
    }

    private static void q8_0(GgmlType t, MemorySegment w, long off, int k, float[] dst, int dOff) {
        for (int b = 0; b < k / 32; b++) {
            long o = off + 34L * b;
            float d = QuantDot.h(w, o);
            int y = dOff + 32 * b;
            for (int j = 0; j < 32; j += 8) {
                ((FloatVector) jdk.incubator.vector.ByteVector.fromMemorySegment(jdk.incubator.vector.ByteVector.SPECIES_64, w, o + 2 + j, QuantDot.LE)
                        .convertShape(VectorOperators.B2F, VectorShapes.F8, 0)).mul(d).intoArray(dst, y + j);
            }
        }
    }

    private static void q4(GgmlType t, MemorySegment w, long off, int k, float[] dst, int dOff) {
        boolean one = t == GgmlType.Q4_1;
        int bytes = one ? 20 : 18, qs = one ? 4 : 2;
        for (int b = 0; b < k / 32; b++) {
            long o = off + (long) bytes * b;
            float d = QuantDot.h(w, o), m = one ? QuantDot.h(w, o + 2) : 0;
            int y = dOff + 32 * b;
            for (int j = 0; j < 16; j += 8) {
                IntVector v = u8x8(w, o + qs + j);
                IntVector lo = v.and(0xF), hi = v.lanewise(VectorOperators.LSHR, 4);
                if (one) {
                    toF(lo).mul(d).add(m).intoArray(dst, y + j);
                    toF(hi).mul(d).add(m).intoArray(dst, y + j + 16);
                } else {
                    toF(lo.sub(8)).mul(d).intoArray(dst, y + j);
                    toF(hi.sub(8)).mul(d).intoArray(dst, y + j + 16);
                }
            }
        }
    }

    private static void q5(GgmlType t, MemorySegment w, long off, int k, float[] dst, int dOff) {
        boolean one = t == GgmlType.Q5_1;
        int bytes = one ? 24 : 22, qhOff = one ? 4 : 2;
        for (int b = 0; b < k / 32; b++) {
            long o = off + (long) bytes * b;
            float d = QuantDot.h(w, o), m = one ? QuantDot.h(w, o + 2) : 0;
            IntVector qh = IntVector.broadcast(I256, w.get(QuantDotReference.I32, o + qhOff));
            int y = dOff + 32 * b;
            for (int j = 0; j < 16; j += 8) {
                IntVector v = u8x8(w, o + qhOff + 4 + j);
                // bit j (j + 16) of qh is bit 4 of element j (j + 16)
                IntVector h0 = qh.lanewise(VectorOperators.LSHR, IOTA.add(j)).and(1).lanewise(VectorOperators.LSHL, 4);
                IntVector h1 = qh.lanewise(VectorOperators.LSHR, IOTA.add(j + 16)).and(1).lanewise(VectorOperators.LSHL, 4);
                IntVector x0 = v.and(0xF).or(h0), x1 = v.lanewise(VectorOperators.LSHR, 4).or(h1);
                if (one) {
                    toF(x0).mul(d).add(m).intoArray(dst, y + j);
                    toF(x1).mul(d).add(m).intoArray(dst, y + j + 16);
                } else {
                    toF(x0.sub(16)).mul(d).intoArray(dst, y + j);
                    toF(x1.sub(16)).mul(d).intoArray(dst, y + j + 16);
                }
            }
        }
    }

    private static void qk45(GgmlType t, MemorySegment w, long off, int k, float[] dst, int dOff) {
        boolean five = t == GgmlType.Q5_K;
        int bytes = five ? 176 : 144, qsOff = five ? 48 : 16;
        for (int b = 0; b < k / 256; b++) {
            long o = off + (long) bytes * b;
            float d = QuantDot.h(w, o), dmin = QuantDot.h(w, o + 2);
            int y = dOff + 256 * b;
            for (int c = 0; c < 4; c++) {
                float d1 = d * scaleK4(w, o + 4, 2 * c), m1 = dmin * minK4(w, o + 4, 2 * c);
                float d2 = d * scaleK4(w, o + 4, 2 * c + 1), m2 = dmin * minK4(w, o + 4, 2 * c + 1);
                for (int l = 0; l < 32; l += 8) {
                    IntVector v = u8x8(w, o + qsOff + 32 * c + l);
                    IntVector lo = v.and(0xF), hi = v.lanewise(VectorOperators.LSHR, 4);
                    if (five) {
                        IntVector qh = u8x8(w, o + 16 + l);
                        lo = lo.or(qh.lanewise(VectorOperators.LSHR, 2 * c).and(1).lanewise(VectorOperators.LSHL, 4));
                        hi = hi.or(qh.lanewise(VectorOperators.LSHR, 2 * c + 1).and(1).lanewise(VectorOperators.LSHL, 4));
                    }
                    toF(lo).mul(d1).sub(m1).intoArray(dst, y + 64 * c + l);
                    toF(hi).mul(d2).sub(m2).intoArray(dst, y + 64 * c + 32 + l);
                }
            }
        }
    }

    private static void q6k(GgmlType t, MemorySegment w, long off, int k, float[] dst, int dOff) {
        for (int b = 0; b < k / 256; b++) {
            long o = off + 210L * b;
            float d = QuantDot.h(w, o + 208);
            for (int n = 0; n < 2; n++) {
                long ql = o + 64L * n, qh = o + 128 + 32L * n, sc = o + 192 + 8L * n;
                int y = dOff + 256 * b + 128 * n;
                for (int l = 0; l < 32; l += 8) {
                    int is = l / 16;
                    IntVector vl0 = u8x8(w, ql + l), vl1 = u8x8(w, ql + l + 32), vh = u8x8(w, qh + l);
                    IntVector q0 = vl0.and(0xF).or(vh.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q1 = vl1.and(0xF).or(vh.lanewise(VectorOperators.LSHR, 2).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q2 = vl0.lanewise(VectorOperators.LSHR, 4).or(vh.lanewise(VectorOperators.LSHR, 4).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q3 = vl1.lanewise(VectorOperators.LSHR, 4).or(vh.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    toF(q0).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + is)).intoArray(dst, y + l);
                    toF(q1).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + is + 2)).intoArray(dst, y + l + 32);
                    toF(q2).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + is + 4)).intoArray(dst, y + l + 64);
                    toF(q3).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + is + 6)).intoArray(dst, y + l + 96);
                }
            }
        }
    }
}
