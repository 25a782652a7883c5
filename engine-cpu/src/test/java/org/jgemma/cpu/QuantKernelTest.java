package org.jgemma.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.stream.Stream;

import org.jgemma.backend.TestWeights;
import org.jgemma.ggml.Dequantize;
import org.jgemma.ggml.GgmlType;
import org.jgemma.ggml.Quantize;
import org.jgemma.gguf.GgufTensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fast kernels against their scalar twins and against the engine-core references (org.jgemma.ggml.Quantize /
 * Dequantize, themselves checked bit-exact against llama.cpp), on seeded random data.
 */
class QuantKernelTest {
    static final int K = 1024, ROWS = 3;
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static Stream<GgmlType> quantTypes() {
        return Stream.of(GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_1, GgmlType.Q5_1, GgmlType.Q2_K, GgmlType.Q3_K,
                GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);
    }

    static float[] activations(long seed) {
        float[] x = TestWeights.gaussian(ROWS * K, 1.0, seed);
        x[5] = 0; // a few special values: zeros, an all-zero block, a large outlier
        for (int i = 256; i < 512; i++) x[K + i] = 0;
        x[2 * K + 7] = 40f;
        return x;
    }

    static Q8Activations quantizeRef(GgmlType kind, float[] x) {
        Q8Activations a = new Q8Activations(ROWS, K);
        a.kind = kind;
        for (int r = 0; r < ROWS; r++) {
            switch (kind) {
                case Q8_0 -> ActivationQuantReference.quantizeQ8_0(x, r * K, K, a.q, r * K, a.d, r * (K / 32));
                case Q8_1 -> ActivationQuantReference.quantizeQ8_1(x, r * K, K, a.q, r * K, a.d, r * (K / 32), a.s, r * (K / 32));
                case Q8_K -> ActivationQuantReference.quantizeQ8_K(x, r * K, K, a.q, r * K, a.d, r * (K / 256), a.bsums, r * (K / 16));
                default -> throw new IllegalArgumentException();
            }
        }
        return a;
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q8_1", "Q8_K"})
    void fastQuantizerEqualsItsTwin(GgmlType kind) {
        float[] x = activations(11);
        Q8Activations ref = quantizeRef(kind, x);
        Q8Activations fast = new Q8Activations(ROWS, K);
        fast.kind = kind;
        ActivationQuant.quantize(fast, x, 0, ROWS, K);
        assertArrayEquals(ref.q, fast.q, kind + " quants");
        assertArrayEquals(ref.d, fast.d, kind + " scales");
        if (kind == GgmlType.Q8_1) assertArrayEquals(ref.s, fast.s, "Q8_1 sums");
        if (kind == GgmlType.Q8_K) assertArrayEquals(ref.bsums, fast.bsums, "Q8_K bsums");
    }

    /** Against engine-core's quantize_row_*_ref port: Q8_K bit-exact; Q8_0/Q8_1 differ only by x86's rounding (FACTS §2.3). */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q8_1", "Q8_K"})
    void quantizerMatchesEngineCoreReference(GgmlType kind) {
        float[] x = activations(12);
        Q8Activations fast = new Q8Activations(ROWS, K);
        fast.kind = kind;
        ActivationQuant.quantize(fast, x, 0, ROWS, K);
        byte[] blocks = Quantize.quantize(kind, x);
        MemorySegment s = MemorySegment.ofArray(blocks);
        int off = 0;
        for (int r = 0; r < ROWS; r++) {
            for (int b = 0; b < K / kind.blockSize; b++) {
                int base = r * K + b * kind.blockSize;
                int qOff = kind == GgmlType.Q8_K ? 4 : kind == GgmlType.Q8_1 ? 4 : 2;
                float d = kind == GgmlType.Q8_K ? s.get(F32, off) : Float.float16ToFloat(s.get(I16, off));
                float fd = fast.d[base / kind.blockSize];
                if (kind == GgmlType.Q8_K) assertEquals(d, fd, "Q8_K d of block " + b + " row " + r);
                else assertEquals(d, fd, Math.ulp(d) * 2, kind + " d of block " + b + " row " + r);
                for (int j = 0; j < kind.blockSize; j++) {
                    int want = s.get(ValueLayout.JAVA_BYTE, off + qOff + j);
                    int got = fast.q[base + j];
                    if (kind == GgmlType.Q8_K) assertEquals(want, got, "Q8_K q[" + j + "] block " + b + " row " + r);
                    else assertTrue(Math.abs(want - got) <= 1, kind + " q[" + j + "] block " + b + ": " + want + " vs " + got);
                }
                if (kind == GgmlType.Q8_K) {
                    for (int j = 0; j < 16; j++) {
                        assertEquals(s.get(I16, off + 260 + 2L * j), fast.bsums[base / 16 + j], "Q8_K bsums[" + j + "]");
                    }
                }
                off += kind.typeSize;
            }
        }
    }

    @ParameterizedTest
    @MethodSource("quantTypes")
    void fastDotEqualsItsTwinAndTheFloatDot(GgmlType type) {
        int rows = 8;
        GgufTensorInfo t = TestWeights.random("w", type, rows, K, 100 + type.id);
        float[] x = activations(200 + type.id);
        GgmlType kind = Q8Activations.kindFor(type);
        Q8Activations a = quantizeRef(kind, x);
        long rb = type.byteSize(K);
        float[] wrow = new float[K];
        for (int r = 0; r < rows; r++) {
            Dequantize.dequantizeRow(type, t.data(), rb * r, wrow, 0, K);
            for (int tok = 0; tok < ROWS; tok++) {
                float ref = QuantDotReference.dot(type, t.data(), rb * r, a, tok, K);
                float fast = QuantDot.dot(type, t.data(), rb * r, a, tok, K);
                double mag = 0, exact = 0;
                for (int i = 0; i < K; i++) {
                    mag += Math.abs(wrow[i] * x[tok * K + i]);
                    exact += (double) wrow[i] * x[tok * K + i];
                }
                // same integer sums, different float summation order
                assertEquals(ref, fast, 1e-5 * mag, type + " row " + r + " token " + tok + ": fast vs reference");
                // 8-bit activations: error of order |w|·|x|/127 per element, mostly cancelling
                assertEquals(exact, ref, 0.02 * mag, type + " row " + r + " token " + tok + ": int8 dot vs float dot");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q5_0", "Q4_1", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void dequantRowsEqualsEngineCoreDequantize(GgmlType type) {
        int rows = 3;
        GgufTensorInfo t = TestWeights.random("w", type, rows, K, 300 + type.id);
        float[] want = Dequantize.dequantize(type, t.data(), (long) rows * K);
        float[] got = new float[rows * K];
        for (int r = 0; r < rows; r++) DequantRows.row(type, t.data(), type.byteSize(K) * r, K, got, r * K);
        assertArrayEquals(want, got, type + " dequantized rows");
    }

    @Test
    void geluTableIsGgmlsFp16Table() {
        // table[h] = fp16(gelu_f32(fp16 -> f32 (h))): spot-check against the formula with fp16 rounding of input and output
        for (float x : new float[] {-9.5f, -3f, -1f, -0.25f, 0f, 0.1f, 0.5f, 1f, 2.5f, 9.9f}) {
            float xin = Float.float16ToFloat(Float.floatToFloat16(x));
            double g = 0.5 * xin * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * xin * (1 + 0.044715 * xin * xin)));
            float want = Float.float16ToFloat(Float.floatToFloat16((float) g));
            assertEquals(want, CpuOps.GELU_F16[Float.floatToFloat16(x) & 0xFFFF], Math.ulp(want) * 2, "gelu(" + x + ")");
        }
    }
}
