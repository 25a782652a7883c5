package org.jgemma.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import org.jgemma.ggml.GgmlType;

/**
 * Dequantization of one weight row into a float scratch row (for embedding lookups, the float-weight types and the
 * batched mat-mat path), following ggml-quants.c :: dequantize_row_* (FACTS §2.2). Tested against
 * org.jgemma.ggml.Dequantize, the project's reference.
 */
final class DequantRows {
    private DequantRows() {}

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(QuantDot.LE);

    /** dst[dOff .. dOff+k) = row of {@code k} elements at byte {@code off} of {@code w}. */
    static void row(GgmlType t, MemorySegment w, long off, int k, float[] dst, int dOff) {
        switch (t) {
            case F32 -> MemorySegment.copy(w, F32, off, dst, dOff, k);
            case F16 -> {
                for (int i = 0; i < k; i++) dst[dOff + i] = Float.float16ToFloat(w.get(QuantDotReference.I16, off + 2L * i));
            }
            case BF16 -> {
                int i = 0;
                for (; i + 8 <= k; i += 8) {
                    ((IntVector) ShortVector.fromMemorySegment(ShortVector.SPECIES_128, w, off + 2L * i, QuantDot.LE)
                            .convertShape(VectorOperators.S2I, IntVector.SPECIES_256, 0))
                            .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, dOff + i);
                }
                for (; i < k; i++) dst[dOff + i] = Float.intBitsToFloat((w.get(QuantDotReference.I16, off + 2L * i) & 0xFFFF) << 16);
            }
            case Q8_0 -> {
                for (int b = 0; b < k / 32; b++) {
                    long o = off + 34L * b;
                    float d = QuantDot.h(w, o);
                    int y = dOff + 32 * b;
                    for (int j = 0; j < 32; j += 8) {
                        ((FloatVector) jdk.incubator.vector.ByteVector.fromMemorySegment(jdk.incubator.vector.ByteVector.SPECIES_64, w, o + 2 + j, QuantDot.LE)
                                .convertShape(VectorOperators.B2F, FloatVector.SPECIES_256, 0)).mul(d).intoArray(dst, y + j);
                    }
                }
            }
            case Q4_0, Q4_1 -> {
                boolean one = t == GgmlType.Q4_1;
                int bytes = one ? 20 : 18, qs = one ? 4 : 2;
                for (int b = 0; b < k / 32; b++) {
                    long o = off + (long) bytes * b;
                    float d = QuantDot.h(w, o), m = one ? QuantDot.h(w, o + 2) : 0;
                    int y = dOff + 32 * b;
                    for (int j = 0; j < 16; j++) {
                        int v = QuantDotReference.u8(w, o + qs + j);
                        if (one) {
                            dst[y + j] = (v & 0xF) * d + m;
                            dst[y + j + 16] = (v >> 4) * d + m;
                        } else {
                            dst[y + j] = ((v & 0xF) - 8) * d;
                            dst[y + j + 16] = ((v >> 4) - 8) * d;
                        }
                    }
                }
            }
            case Q5_0, Q5_1 -> {
                boolean one = t == GgmlType.Q5_1;
                int bytes = one ? 24 : 22, qhOff = one ? 4 : 2;
                for (int b = 0; b < k / 32; b++) {
                    long o = off + (long) bytes * b;
                    float d = QuantDot.h(w, o), m = one ? QuantDot.h(w, o + 2) : 0;
                    int qh = w.get(QuantDotReference.I32, o + qhOff);
                    int y = dOff + 32 * b;
                    for (int j = 0; j < 16; j++) {
                        int v = QuantDotReference.u8(w, o + qhOff + 4 + j);
                        int x0 = (v & 0xF) | (((qh >>> j) & 1) << 4);
                        int x1 = (v >> 4) | (((qh >>> (j + 16)) & 1) << 4);
                        if (one) {
                            dst[y + j] = x0 * d + m;
                            dst[y + j + 16] = x1 * d + m;
                        } else {
                            dst[y + j] = (x0 - 16) * d;
                            dst[y + j + 16] = (x1 - 16) * d;
                        }
                    }
                }
            }
            case Q4_K, Q5_K -> {
                boolean five = t == GgmlType.Q5_K;
                int bytes = five ? 176 : 144, qsOff = five ? 48 : 16;
                int[] sm = new int[16];
                for (int b = 0; b < k / 256; b++) {
                    long o = off + (long) bytes * b;
                    float d = QuantDot.h(w, o), dmin = QuantDot.h(w, o + 2);
                    QuantDotReference.scaleMinK4(w, o + 4, sm);
                    int y = dOff + 256 * b;
                    for (int c = 0; c < 4; c++) {
                        float d1 = d * sm[2 * c], m1 = dmin * sm[8 + 2 * c];
                        float d2 = d * sm[2 * c + 1], m2 = dmin * sm[8 + 2 * c + 1];
                        for (int l = 0; l < 32; l++) {
                            int v = QuantDotReference.u8(w, o + qsOff + 32 * c + l);
                            int h1 = 0, h2 = 0;
                            if (five) {
                                int qh = QuantDotReference.u8(w, o + 16 + l);
                                h1 = ((qh >> (2 * c)) & 1) << 4;
                                h2 = ((qh >> (2 * c + 1)) & 1) << 4;
                            }
                            dst[y + 64 * c + l] = d1 * ((v & 0xF) + h1) - m1;
                            dst[y + 64 * c + 32 + l] = d2 * ((v >> 4) + h2) - m2;
                        }
                    }
                }
            }
            case Q6_K -> {
                for (int b = 0; b < k / 256; b++) {
                    long o = off + 210L * b;
                    float d = QuantDot.h(w, o + 208);
                    for (int n = 0; n < 2; n++) {
                        long ql = o + 64L * n, qh = o + 128 + 32L * n, sc = o + 192 + 8L * n;
                        int y = dOff + 256 * b + 128 * n;
                        for (int l = 0; l < 32; l++) {
                            int is = l / 16;
                            int vl0 = QuantDotReference.u8(w, ql + l), vl1 = QuantDotReference.u8(w, ql + l + 32);
                            int vh = QuantDotReference.u8(w, qh + l);
                            dst[y + l] = d * w.get(ValueLayout.JAVA_BYTE, sc + is) * (((vl0 & 0xF) | ((vh & 3) << 4)) - 32);
                            dst[y + l + 32] = d * w.get(ValueLayout.JAVA_BYTE, sc + is + 2) * (((vl1 & 0xF) | (((vh >> 2) & 3) << 4)) - 32);
                            dst[y + l + 64] = d * w.get(ValueLayout.JAVA_BYTE, sc + is + 4) * (((vl0 >> 4) | (((vh >> 4) & 3) << 4)) - 32);
                            dst[y + l + 96] = d * w.get(ValueLayout.JAVA_BYTE, sc + is + 6) * (((vl1 >> 4) | (((vh >> 6) & 3) << 4)) - 32);
                        }
                    }
                }
            }
            default -> throw new UnsupportedOperationException("CPU backend cannot read weights of type " + t);
        }
    }
}
