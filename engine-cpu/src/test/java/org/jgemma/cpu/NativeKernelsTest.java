package org.jgemma.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.jgemma.backend.TestWeights;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The native int8 kernels (ggml's AVX2 loops, src/main/c/jgemma_cpu.c) against the scalar reference
 * {@link QuantDotReference} (the same limit as QuantKernelTest's fast-vs-reference check: same integer sums, another
 * float order), for every type they cover, widths of odd and even block counts, and 1 to 8 activation rows; each
 * column of a several-row call bit-identical to the same row alone (a sequence's logits do not depend on its batch).
 * Run by the default surefire execution (native on where it loads) and by the {@code java-kernels} one
 * ({@code -Djgemma.cpu.native=false}), where only the switch itself is checked.
 */
class NativeKernelsTest {
    static Stream<GgmlType> packedTypes() {
        return Stream.of(GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q8_0); // Q8_0 where AVX512-VNNI runs
    }

    static Stream<GgmlType> nativeTypes() {
        return Stream.of(GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q6_K);
    }

    private static boolean switchedOff() {
        return !Boolean.parseBoolean(System.getProperty("jgemma.cpu.native", "true"));
    }

    @Test
    void loadedWhereBuiltAndSwitchable() throws Exception {
        System.err.println("NativeKernelsTest: " + NativeKernels.describe());
        if (switchedOff()) {
            assertFalse(NativeKernels.supports(GgmlType.Q8_0));
            assertTrue(NativeKernels.describe().contains("-Djgemma.cpu.native=false"), NativeKernels.describe());
            return;
        }
        boolean x86Linux = System.getProperty("os.name", "").startsWith("Linux") && System.getProperty("os.arch", "").equals("amd64");
        boolean avx2 = x86Linux && Files.readString(Path.of("/proc/cpuinfo")).contains(" avx2");
        boolean built = NativeKernels.class.getResource(NativeKernels.RESOURCE) != null;
        // CI builds the library (it installs the C compiler): there, a machine with AVX2 must use it, not fall back quietly
        if ("true".equals(System.getenv("CI")) && avx2) assertTrue(built, "CI: the native library was not built");
        if (built && avx2) assertTrue(NativeKernels.supports(GgmlType.Q8_0), NativeKernels.describe());
        assumeTrue(NativeKernels.supports(GgmlType.Q8_0), "native kernels not in use here: " + NativeKernels.describe());
        // the VNNI twins where the CPU has them, unless switched off (the avx2-kernels execution)
        String cpuinfo = Files.readString(Path.of("/proc/cpuinfo"));
        boolean vnni = cpuinfo.contains(" avx512_vnni") && cpuinfo.contains(" avx512vl") && !"false".equals(System.getProperty("jgemma.cpu.vnni"));
        assertEquals(vnni, NativeKernels.describe().contains("AVX512-VNNI"), NativeKernels.describe());
    }

    @ParameterizedTest
    @MethodSource("nativeTypes")
    void matchTheReferenceAndEachColumnIsItsOwn(GgmlType type) {
        assumeTrue(NativeKernels.supports(type), "native kernels not in use here: " + NativeKernels.describe());
        int[] widths = type.blockSize == 256 ? new int[] {256, 512, 768, 2560} : new int[] {32, 96, 640, 1152};
        for (int k : widths) {
            int rows = 6, cols = 8;
            GgufTensorInfo t = TestWeights.random("w", type, rows, k, 700 + k + type.id);
            float[] x = TestWeights.gaussian(cols * k, 1.0, 800 + k);
            x[3] = 0;
            x[k + 1] = 30f; // an outlier: one large and many small quants in a block
            Q8Activations a = quantized(type, x, cols, k);
            long rb = type.byteSize(k);
            float[] all = new float[cols * rows];
            NativeKernels.rows(type, t.data(), rb, 0, rows, a, k, cols, all, rows);
            double[][] mags = magnitudes(type, t, x, rows, cols, k);
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    double mag = mags[r][c];
                    float ref = QuantDotReference.dot(type, t.data(), rb * r, a, c, k);
                    float got = all[c * rows + r];
                    assertEquals(ref, got, 1e-5 * mag + 1e-6, type + " k=" + k + " row " + r + " column " + c + ": native vs reference");
                }
            }
            // one row range and one column at a time: the same floats, bit for bit
            for (int c = 0; c < cols; c++) {
                float[] single = alone(type, t, x, c, k, 1, rows);
                for (int r = 1; r < rows; r++) {
                    assertEquals(Float.floatToRawIntBits(all[c * rows + r]), Float.floatToRawIntBits(single[r]),
                            type + " k=" + k + " row " + r + " column " + c + ": in a batch of " + cols + " " + all[c * rows + r] + ", alone " + single[r]);
                }
            }
        }
    }

    /**
     * A prompt's worth of columns: the kernels sweep the rows once per block of columns (about 128 KiB of activations)
     * and take the columns four at a time; every column still gets the float it gets alone, through the blocks' edges
     * and the 2- and 1-column remainders.
     */
    @ParameterizedTest
    @MethodSource("nativeTypes")
    void promptSizedBatchesGiveEachColumnItsOwnFloats(GgmlType type) {
        assumeTrue(NativeKernels.supports(type), "native kernels not in use here: " + NativeKernels.describe());
        int k = type.blockSize == 256 ? 2560 : 2048, rows = 3, cols = 111; // 2560: blocks of 48 columns; 2048: of 64
        GgufTensorInfo t = TestWeights.random("w", type, rows, k, 900 + type.id);
        float[] x = TestWeights.gaussian(cols * k, 1.0, 901);
        Q8Activations a = quantized(type, x, cols, k);
        long rb = type.byteSize(k);
        float[] all = new float[cols * rows];
        NativeKernels.rows(type, t.data(), rb, 0, rows, a, k, cols, all, rows);
        for (int c = 0; c < cols; c++) {
            float[] single = alone(type, t, x, c, k, 0, rows);
            for (int r = 0; r < rows; r++) {
                assertEquals(Float.floatToRawIntBits(single[r]), Float.floatToRawIntBits(all[c * rows + r]),
                        type + " row " + r + " column " + c + " of " + cols + ": " + all[c * rows + r] + ", alone " + single[r]);
            }
        }
    }

    /**
     * Q4_0, Q5_0, Q4_K and (with VNNI) Q8_0 repacked in groups of 8 rows (NativeKernels.pack): every row and column within
     * rounding of the row-by-row kernel (the same integer block dots, the scales applied in another order) and of the
     * scalar reference; each column bit-identical alone and in batches of 1 to 111 columns (through the column blocks'
     * edges and the 4/2/1-column remainders); row ranges in whole groups only.
     */
    @ParameterizedTest
    @MethodSource("packedTypes")
    void repackedMatchesTheRowKernelAndEachColumnIsItsOwn(GgmlType type) {
        assumeTrue(NativeKernels.packs(type, type.blockSize, 8), "repacked kernels not in use here: " + NativeKernels.describe());
        int[] widths = type.blockSize == 256 ? new int[] {256, 768, 2560} : new int[] {32, 96, 1152, 2048};
        for (int k : widths) {
            int rows = 24, cols = k >= 2048 ? 111 : 7;
            GgufTensorInfo t = TestWeights.random("w", type, rows, k, 1700 + k);
            float[] x = TestWeights.gaussian(cols * k, 1.0, 1800 + k);
            x[k + 1] = 30f;
            Q8Activations a = quantized(type, x, cols, k);
            long rb = type.byteSize(k);
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                java.lang.foreign.MemorySegment packed = arena.allocate(NativeKernels.packedBytes(type, k, rows), 64);
                NativeKernels.pack(type, t.data(), packed, k, rows);
                float[] plain = new float[cols * rows], got = new float[cols * rows];
                NativeKernels.rows(type, t.data(), rb, 0, rows, a, k, cols, plain, rows);
                NativeKernels.rows(type, true, packed, rb, 0, rows, a, k, cols, got, rows);
                double[][] mags = magnitudes(type, t, x, rows, cols, k);
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        double mag = mags[r][c];
                        float ref = QuantDotReference.dot(type, t.data(), rb * r, a, c, k);
                        assertEquals(plain[c * rows + r], got[c * rows + r], 1e-5 * mag + 1e-6, "k=" + k + " row " + r + " column " + c + ": repacked vs row kernel");
                        assertEquals(ref, got[c * rows + r], 1e-5 * mag + 1e-6, "k=" + k + " row " + r + " column " + c + ": repacked vs reference");
                    }
                }
                for (int c = 0; c < cols; c++) {
                    float[] single = alone(type, packed, x, c, k, 8, rows);
                    for (int r = 8; r < rows; r++) {
                        assertEquals(Float.floatToRawIntBits(got[c * rows + r]), Float.floatToRawIntBits(single[r]),
                                "k=" + k + " row " + r + " column " + c + ": in a batch of " + cols + " " + got[c * rows + r] + ", alone " + single[r]);
                    }
                }
                assertThrows(IllegalArgumentException.class, () -> NativeKernels.rows(type, true, packed, rb, 4, rows, a, k, cols, got, rows));
            }
        }
    }

    /** Rows [r0, rows) of {@code t} against column c of x ([cols][k]) quantized and computed alone (n = 1). */
    private static float[] alone(GgmlType type, GgufTensorInfo t, float[] x, int c, int k, int r0, int rows) {
        return alone(type, false, t.data(), x, c, k, r0, rows);
    }

    /** {@link #alone} on a weight repacked by NativeKernels.pack. */
    private static float[] alone(GgmlType type, java.lang.foreign.MemorySegment packed, float[] x, int c, int k, int r0, int rows) {
        return alone(type, true, packed, x, c, k, r0, rows);
    }

    private static float[] alone(GgmlType type, boolean packed, java.lang.foreign.MemorySegment w, float[] x, int c, int k, int r0, int rows) {
        Q8Activations one = quantized(type, java.util.Arrays.copyOfRange(x, c * k, (c + 1) * k), 1, k);
        float[] single = new float[rows];
        NativeKernels.rows(type, packed, w, type.byteSize(k), r0, rows, one, k, 1, single, rows);
        return single;
    }

    /** x = [cols][k] quantized to type's activation format, with the int8 copy the native kernels read. */
    private static Q8Activations quantized(GgmlType type, float[] x, int cols, int k) {
        Q8Activations a = new Q8Activations(cols, k);
        a.kind = Q8Activations.kindFor(type);
        ActivationQuant.quantize(a, x, 0, cols, k);
        NativeKernels.toBytes(a, cols, k);
        return a;
    }

    /** Σ_i |w[r][i] · x[c][i]| for each row r and column c: the scale of a dot product's rounding (the tests' limits). */
    private static double[][] magnitudes(GgmlType type, GgufTensorInfo t, float[] x, int rows, int cols, int k) {
        double[][] mags = new double[rows][cols];
        float[] wrow = new float[k];
        for (int r = 0; r < rows; r++) {
            org.jgemma.ggml.Dequantize.dequantizeRow(type, t.data(), type.byteSize(k) * r, wrow, 0, k);
            for (int c = 0; c < cols; c++) for (int i = 0; i < k; i++) mags[r][c] += Math.abs(wrow[i] * x[c * k + i]);
        }
        return mags;
    }

    @Test
    void wrongSizesAreRefusedBeforeTheCall() {
        assumeTrue(NativeKernels.supports(GgmlType.Q8_0), "native kernels not in use here: " + NativeKernels.describe());
        int k = 64, rows = 4;
        GgufTensorInfo t = TestWeights.random("w", GgmlType.Q8_0, rows, k, 1);
        Q8Activations a = new Q8Activations(1, k);
        a.kind = GgmlType.Q8_0;
        ActivationQuant.quantize(a, TestWeights.gaussian(k, 1.0, 2), 0, 1, k);
        long rb = GgmlType.Q8_0.byteSize(k);
        float[] out = new float[rows];
        assertThrows(IllegalArgumentException.class, () -> NativeKernels.rows(GgmlType.Q8_0, t.data(), rb, 0, rows + 1, a, k, 1, out, rows + 1));
        assertThrows(IllegalArgumentException.class, () -> NativeKernels.rows(GgmlType.Q8_0, t.data(), rb, 0, rows, a, k, 2, out, rows));
        assertThrows(IllegalArgumentException.class, () -> NativeKernels.rows(GgmlType.Q8_0, t.data(), rb, 0, rows, a, k, 1, new float[rows - 1], rows));
        assertThrows(IllegalArgumentException.class, () -> NativeKernels.rows(GgmlType.Q8_0, t.data(), rb, 0, rows, a, 48, 1, out, rows));
    }
}
