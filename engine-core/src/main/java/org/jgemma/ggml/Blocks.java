package org.jgemma.ggml;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Shared helpers of the block classes: little-endian field access, fp16 conversion and ggml's rounding helpers.
 * All arithmetic is plain IEEE float32 as ggml-base is compiled (no FMA contraction, no fast-math), so results are
 * bit-identical to ggml/src/ggml-quants.c.
 */
final class Blocks {
    private Blocks() {}

    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** STYLE 3: a block class's layout size, checked against the {@link GgmlType} table when the class loads. */
    static void check(GgmlType t, int blockSize, int bytes) {
        if (t.blockSize != blockSize || t.typeSize != bytes) {
            throw new AssertionError(t + ": block class says " + blockSize + " elements / " + bytes
                    + " bytes, GgmlType says " + t.blockSize + " / " + t.typeSize);
        }
    }

    /** Unsigned byte at {@code o}. */
    static int u8(MemorySegment s, long o) {
        return s.get(ValueLayout.JAVA_BYTE, o) & 0xFF;
    }

    /** Signed byte at {@code o}. */
    static int i8(MemorySegment s, long o) {
        return s.get(ValueLayout.JAVA_BYTE, o);
    }

    static void put8(MemorySegment s, long o, int v) {
        s.set(ValueLayout.JAVA_BYTE, o, (byte) v);
    }

    /** An fp16 field as float (IEEE binary16; ggml_compute_fp16_to_fp32). */
    static float f16(MemorySegment s, long o) {
        return Float.float16ToFloat(s.get(I16, o));
    }

    /** Stores {@code v} as fp16, round to nearest even (ggml_compute_fp32_to_fp16). */
    static void putF16(MemorySegment s, long o, float v) {
        s.set(I16, o, Float.floatToFloat16(v));
    }

    /** Round-trips through fp16: GGML_FP16_TO_FP32(GGML_FP32_TO_FP16(v)). */
    static float viaF16(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    /**
     * ggml-quants.c :: nearest_int: round half to even via the 1.5*2^23 trick, valid for |v| <= 4194303.
     * Done literally (float add, then bit extraction) so out-of-range inputs behave as in C too.
     */
    static int nearestInt(float v) {
        float val = v + 12582912.f;
        return (Float.floatToRawIntBits(val) & 0x007fffff) - 0x00400000;
    }

    /** C's roundf: half away from zero. */
    static float roundf(float v) {
        float r = (float) Math.floor(Math.abs(v) + 0.5);
        // Math.abs(v)+0.5 in double is exact for floats below 2^52; floor gives roundf's magnitude.
        return Math.copySign(r, v);
    }

    /** get_scale_min_k4: the 6-bit scale (low 8 bits) and min (bits 8..15) of sub-block j of a Q4_K/Q5_K block. */
    static int scaleMinK4(MemorySegment s, long scales, int j) {
        int sc, m;
        if (j < 4) {
            sc = u8(s, scales + j) & 63;
            m = u8(s, scales + j + 4) & 63;
        } else {
            sc = (u8(s, scales + j + 4) & 0xF) | ((u8(s, scales + j - 4) >> 6) << 4);
            m = (u8(s, scales + j + 4) >> 4) | ((u8(s, scales + j) >> 6) << 4);
        }
        return sc | m << 8;
    }

    /** Packs the 8 six-bit scales and mins of a Q4_K/Q5_K block into scales[12] (quantize_row_q4_K_ref). */
    static void packScaleMinK4(MemorySegment s, long scales, int[] ls, int[] lm) {
        for (int j = 0; j < 12; j++) put8(s, scales + j, 0);
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                put8(s, scales + j, ls[j]);
                put8(s, scales + j + 4, lm[j]);
            } else {
                put8(s, scales + j + 4, (ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
                put8(s, scales + j - 4, u8(s, scales + j - 4) | ((ls[j] >> 4) << 6));
                put8(s, scales + j, u8(s, scales + j) | ((lm[j] >> 4) << 6));
            }
        }
    }
}
