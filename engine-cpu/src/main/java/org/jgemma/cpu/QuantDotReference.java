package org.jgemma.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Scalar twins of {@link QuantDot}: one weight row (packed GGML blocks at byte {@code off} of {@code w}) times one
 * quantized activation row ({@code a}, row {@code r}, {@code k} columns), with integer block sums as in
 * ggml-cpu/quants.c :: ggml_vec_dot_*_generic.
 */
final class QuantDotReference {
    private QuantDotReference() {}

    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static float h(MemorySegment w, long o) {
        return Float.float16ToFloat(w.get(I16, o));
    }

    static int u8(MemorySegment w, long o) {
        return w.get(ValueLayout.JAVA_BYTE, o) & 0xFF;
    }

    static float dot(org.jgemma.ggml.GgmlType type, MemorySegment w, long off, Q8Activations a, int r, int k) {
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

    /** ggml_vec_dot_q8_0_q8_0_generic. */
    static float dotQ8_0(MemorySegment w, long off, Q8Activations a, int r, int k) {
        float sum = 0;
        for (int b = 0; b < k / 32; b++) {
            long o = off + 34L * b;
            int qa = r * k + 32 * b;
            int sumi = 0;
            for (int j = 0; j < 32; j++) sumi += w.get(ValueLayout.JAVA_BYTE, o + 2 + j) * a.q[qa + j];
            sum += sumi * (h(w, o) * a.d[r * (k / 32) + b]);
        }
        return sum;
    }

    /** ggml_vec_dot_q4_0_q8_0_generic. */
    static float dotQ4_0(MemorySegment w, long off, Q8Activations a, int r, int k) {
        float sum = 0;
        for (int b = 0; b < k / 32; b++) {
            long o = off + 18L * b;
            int qa = r * k + 32 * b;
            int sumi = 0;
            for (int j = 0; j < 16; j++) {
                int v = u8(w, o + 2 + j);
                sumi += ((v & 0xF) - 8) * a.q[qa + j] + ((v >> 4) - 8) * a.q[qa + j + 16];
            }
            sum += sumi * (h(w, o) * a.d[r * (k / 32) + b]);
        }
        return sum;
    }

    /** ggml_vec_dot_q5_0_q8_0_generic. */
    static float dotQ5_0(MemorySegment w, long off, Q8Activations a, int r, int k) {
        float sum = 0;
        for (int b = 0; b < k / 32; b++) {
            long o = off + 22L * b;
            int qh = w.get(I32, o + 2);
            int qa = r * k + 32 * b;
            int sumi = 0;
            for (int j = 0; j < 16; j++) {
                int v = u8(w, o + 6 + j);
                int x0 = ((v & 0xF) | (((qh >>> j) & 1) << 4)) - 16;
                int x1 = ((v >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16;
                sumi += x0 * a.q[qa + j] + x1 * a.q[qa + j + 16];
            }
            sum += sumi * (h(w, o) * a.d[r * (k / 32) + b]);
        }
        return sum;
    }

    /** ggml_vec_dot_q4_1_q8_1_generic. */
    static float dotQ4_1(MemorySegment w, long off, Q8Activations a, int r, int k) {
        float sum = 0;
        for (int b = 0; b < k / 32; b++) {
            long o = off + 20L * b;
            int qa = r * k + 32 * b;
            int sumi = 0;
            for (int j = 0; j < 16; j++) {
                int v = u8(w, o + 4 + j);
                sumi += (v & 0xF) * a.q[qa + j] + (v >> 4) * a.q[qa + j + 16];
            }
            int ab = r * (k / 32) + b;
            sum += (h(w, o) * a.d[ab]) * sumi + h(w, o + 2) * a.s[ab];
        }
        return sum;
    }

    /** ggml_vec_dot_q5_1_q8_1_generic. */
    static float dotQ5_1(MemorySegment w, long off, Q8Activations a, int r, int k) {
        float sum = 0;
        for (int b = 0; b < k / 32; b++) {
            long o = off + 24L * b;
            int qh = w.get(I32, o + 4);
            int qa = r * k + 32 * b;
            int sumi = 0;
            for (int j = 0; j < 16; j++) {
                int v = u8(w, o + 8 + j);
                int x0 = (v & 0xF) | (((qh >>> j) & 1) << 4);
                int x1 = (v >> 4) | (((qh >>> (j + 16)) & 1) << 4);
                sumi += x0 * a.q[qa + j] + x1 * a.q[qa + j + 16];
            }
            int ab = r * (k / 32) + b;
            sum += (h(w, o) * a.d[ab]) * sumi + h(w, o + 2) * a.s[ab];
        }
        return sum;
    }

    /** 6-bit scale (index 0..7) and min (8..15) of a Q4_K/Q5_K block: get_scale_min_k4. */
    static void scaleMinK4(MemorySegment w, long scalesOff, int[] out) {
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                out[j] = u8(w, scalesOff + j) & 63;
                out[8 + j] = u8(w, scalesOff + j + 4) & 63;
            } else {
                out[j] = (u8(w, scalesOff + j + 4) & 0xF) | ((u8(w, scalesOff + j - 4) >> 6) << 4);
                out[8 + j] = (u8(w, scalesOff + j + 4) >> 4) | ((u8(w, scalesOff + j) >> 6) << 4);
            }
        }
    }

    /** ggml_vec_dot_q4_K_q8_K_generic (integer sums per sub-block times its 6-bit scale; mins through bsums). */
    static float dotQ4_K(MemorySegment w, long off, Q8Activations a, int r, int k) {
        int[] sm = new int[16];
        float sum = 0;
        for (int b = 0; b < k / 256; b++) {
            long o = off + 144L * b;
            scaleMinK4(w, o + 4, sm);
            int qa = r * k + 256 * b;
            int sumi = 0;
            for (int c = 0; c < 4; c++) {
                int lo = 0, hi = 0;
                for (int l = 0; l < 32; l++) {
                    int v = u8(w, o + 16 + 32 * c + l);
                    lo += (v & 0xF) * a.q[qa + 64 * c + l];
                    hi += (v >> 4) * a.q[qa + 64 * c + 32 + l];
                }
                sumi += sm[2 * c] * lo + sm[2 * c + 1] * hi;
            }
            int mins = 0;
            for (int j = 0; j < 16; j++) mins += a.bsums[r * (k / 16) + 16 * b + j] * sm[8 + j / 2];
            float dy = a.d[r * (k / 256) + b];
            sum += h(w, o) * dy * sumi - h(w, o + 2) * dy * mins;
        }
        return sum;
    }

    /** ggml_vec_dot_q5_K_q8_K_generic. */
    static float dotQ5_K(MemorySegment w, long off, Q8Activations a, int r, int k) {
        int[] sm = new int[16];
        float sum = 0;
        for (int b = 0; b < k / 256; b++) {
            long o = off + 176L * b;
            scaleMinK4(w, o + 4, sm);
            int qa = r * k + 256 * b;
            int sumi = 0;
            for (int c = 0; c < 4; c++) {
                int lo = 0, hi = 0;
                for (int l = 0; l < 32; l++) {
                    int v = u8(w, o + 48 + 32 * c + l);
                    int qh = u8(w, o + 16 + l);
                    lo += ((v & 0xF) + (((qh >> (2 * c)) & 1) << 4)) * a.q[qa + 64 * c + l];
                    hi += ((v >> 4) + (((qh >> (2 * c + 1)) & 1) << 4)) * a.q[qa + 64 * c + 32 + l];
                }
                sumi += sm[2 * c] * lo + sm[2 * c + 1] * hi;
            }
            int mins = 0;
            for (int j = 0; j < 16; j++) mins += a.bsums[r * (k / 16) + 16 * b + j] * sm[8 + j / 2];
            float dy = a.d[r * (k / 256) + b];
            sum += h(w, o) * dy * sumi - h(w, o + 2) * dy * mins;
        }
        return sum;
    }

    /** ggml_vec_dot_q6_K_q8_K_generic. */
    static float dotQ6_K(MemorySegment w, long off, Q8Activations a, int r, int k) {
        float sum = 0;
        for (int b = 0; b < k / 256; b++) {
            long o = off + 210L * b;
            int qa = r * k + 256 * b;
            int sumi = 0;
            for (int n = 0; n < 2; n++) {
                long ql = o + 64L * n, qh = o + 128 + 32L * n;
                int y = qa + 128 * n;
                for (int l = 0; l < 32; l++) {
                    int is = 8 * n + l / 16;
                    int vl0 = u8(w, ql + l), vl1 = u8(w, ql + l + 32), vh = u8(w, qh + l);
                    int q1 = ((vl0 & 0xF) | ((vh & 3) << 4)) - 32;
                    int q2 = ((vl1 & 0xF) | (((vh >> 2) & 3) << 4)) - 32;
                    int q3 = ((vl0 >> 4) | (((vh >> 4) & 3) << 4)) - 32;
                    int q4 = ((vl1 >> 4) | (((vh >> 6) & 3) << 4)) - 32;
                    sumi += sc(w, o, is) * q1 * a.q[y + l] + sc(w, o, is + 2) * q2 * a.q[y + l + 32]
                            + sc(w, o, is + 4) * q3 * a.q[y + l + 64] + sc(w, o, is + 6) * q4 * a.q[y + l + 96];
                }
            }
            sum += h(w, o + 208) * a.d[r * (k / 256) + b] * sumi;
        }
        return sum;
    }

    private static int sc(MemorySegment w, long o, int i) {
        return w.get(ValueLayout.JAVA_BYTE, o + 192 + i);
    }
}
