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
            case Q2_K -> dotQ2_K(w, off, a, r, k);
            case Q3_K -> dotQ3_K(w, off, a, r, k);
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

    /** ggml_vec_dot_q2_K_q8_K_generic. */
    static float dotQ2_K(MemorySegment w, long off, Q8Activations a, int r, int k) {
        float sumf = 0;
        for (int b = 0; b < k / 256; b++) {
            long o = off + 84L * b;
            int q8 = r * k + 256 * b, bs = r * (k / 16) + 16 * b;
            int summs = 0;
            for (int j = 0; j < 16; j++) summs += a.bsums[bs + j] * (u8(w, o + j) >> 4);
            float dy = a.d[r * (k / 256) + b];
            float dall = dy * h(w, o + 80), dmin = dy * h(w, o + 82);
            int isum = 0, is = 0;
            long q2 = o + 16;
            for (int c = 0; c < 2; c++, q2 += 32) {
                for (int j = 0, shift = 0; j < 4; j++, shift += 2, q8 += 32) {
                    int d = u8(w, o + is++) & 0xF, isuml = 0;
                    for (int l = 0; l < 16; l++) isuml += a.q[q8 + l] * ((u8(w, q2 + l) >> shift) & 3);
                    isum += d * isuml;
                    d = u8(w, o + is++) & 0xF;
                    isuml = 0;
                    for (int l = 16; l < 32; l++) isuml += a.q[q8 + l] * ((u8(w, q2 + l) >> shift) & 3);
                    isum += d * isuml;
                }
            }
            sumf += dall * isum - dmin * summs;
        }
        return sumf;
    }

    /** ggml_vec_dot_q3_K_q8_K_generic (its 8 float lane sums kept). */
    static float dotQ3_K(MemorySegment w, long off, Q8Activations a, int r, int k) {
        final int kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
        byte[] aux8 = new byte[256];
        int[] aux32 = new int[8], auxs = new int[4];
        float[] sums = new float[8];
        for (int b = 0; b < k / 256; b++) {
            long o = off + 110L * b;
            int ai = 0, m = 1;
            long q3 = o + 32;
            for (int j = 0; j < 256; j += 128, q3 += 32) {
                for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
                    for (int l = 0; l < 32; l++) {
                        aux8[ai + l] = (byte) (((u8(w, q3 + l) >> shift) & 3) - ((u8(w, o + l) & m) != 0 ? 0 : 4));
                    }
                    ai += 32;
                }
            }
            for (int i = 0; i < 3; i++) auxs[i] = w.get(I32, o + 96 + 4L * i);
            int tmp = auxs[2];
            auxs[2] = ((auxs[0] >>> 4) & kmask2) | (((tmp >>> 4) & kmask1) << 4);
            auxs[3] = ((auxs[1] >>> 4) & kmask2) | (((tmp >>> 6) & kmask1) << 4);
            auxs[0] = (auxs[0] & kmask2) | ((tmp & kmask1) << 4);
            auxs[1] = (auxs[1] & kmask2) | (((tmp >>> 2) & kmask1) << 4);
            java.util.Arrays.fill(aux32, 0);
            int q8 = r * k + 256 * b;
            ai = 0;
            for (int j = 0; j < 16; j++) {
                int sc = (byte) (auxs[j >> 2] >>> (8 * (j & 3))) - 32;
                for (int h2 = 0; h2 < 2; h2++, q8 += 8, ai += 8) {
                    for (int l = 0; l < 8; l++) aux32[l] += sc * (short) (a.q[q8 + l] * aux8[ai + l]);
                }
            }
            float d = h(w, o + 108) * a.d[r * (k / 256) + b];
            for (int l = 0; l < 8; l++) sums[l] += d * aux32[l];
        }
        float sumf = 0;
        for (int l = 0; l < 8; l++) sumf += sums[l];
        return sumf;
    }

    private static int sc(MemorySegment w, long o, int i) {
        return w.get(ValueLayout.JAVA_BYTE, o + 192 + i);
    }
}
