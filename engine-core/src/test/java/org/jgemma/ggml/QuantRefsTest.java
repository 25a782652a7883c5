package org.jgemma.ggml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jgemma.testing.FixtureVerifier;
import org.junit.jupiter.api.Test;

/**
 * Quantizers and dequantizers against references made once by tools/make_quant_refs.py: llama.cpp's own
 * quantize_row_*_ref (libggml-base through ctypes) on seeded and edge-case rows, and gguf-py's dequantize (checked
 * there to agree with ggml's dequantize_row_*) on random blocks of every format.
 */
class QuantRefsTest {
    static final int N = 1024;

    /** SplitMix64, as in the generating script. */
    static final class SplitMix64 {
        long s;

        SplitMix64(long seed) {
            s = seed;
        }

        long next() {
            long z = (s += 0x9E3779B97F4A7C15L);
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }

        double uniform() {
            return (next() >>> 40) / (double) (1 << 24);
        }
    }

    static float[] gauss(long seed, int n, double scale) {
        SplitMix64 g = new SplitMix64(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (((g.uniform() + g.uniform() + g.uniform()) - 1.5) * scale);
        return x;
    }

    /** The rows of the generating script's cases(), element for element. */
    static Map<String, float[]> cases() {
        Map<String, float[]> m = new LinkedHashMap<>();
        m.put("gauss", gauss(1, N, 0.1));
        m.put("gauss_big", gauss(2, N, 1000.0));
        m.put("gauss_small", gauss(3, N, 1e-6));
        m.put("zeros", new float[N]);
        m.put("tiny", gauss(4, N, 1e-30));
        float[] c = new float[N];
        java.util.Arrays.fill(c, 0.37f);
        m.put("constant", c);
        float[] nc = new float[N];
        java.util.Arrays.fill(nc, -2.5f);
        m.put("negconstant", nc);
        float[] h = new float[N];
        for (int j = 0; j < N; j++) h[j] = (float) ((j % 32) - 15.5);
        for (int j = 31; j < N; j += 32) h[j] = 127f;
        m.put("halves", h);
        float[] s = new float[N];
        for (int j = 5; j < N; j += 32) s[j] = -3f;
        for (int j = 200; j < N; j += 256) s[j] = 7f;
        m.put("spikes", s);
        float[] p = gauss(5, N, 0.5);
        for (int j = 0; j < N; j++) p[j] = Math.abs(p[j]);
        m.put("positive", p);
        float[] mx = gauss(6, N, 0.05);
        for (int j = 0; j < N; j++) mx[j] = mx[j] + 0.3f;
        m.put("mixed", mx);
        return m;
    }

    static List<String[]> lines(String kind) throws IOException {
        try (InputStream in = QuantRefsTest.class.getResourceAsStream("/fixtures/quant-refs.txt")) {
            List<String[]> out = new ArrayList<>();
            for (String l : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (l.startsWith(kind + " ")) out.add(l.split(" "));
            }
            return out;
        }
    }

    @Test
    void quantizersMatchLlamaCppBitForBit() throws IOException {
        Map<String, float[]> cases = cases();
        List<String[]> refs = lines("Q");
        assertEquals(10 * cases.size(), refs.size(), "reference lines");
        List<String> bad = new ArrayList<>();
        for (String[] r : refs) {
            GgmlType type = GgmlType.valueOf(r[1]);
            byte[] q = Quantize.quantize(type, cases.get(r[2]));
            String sha = FixtureVerifier.sha256(MemorySegment.ofArray(q));
            String first = HexFormat.of().formatHex(q, 0, type.typeSize);
            if (!first.equals(r[4])) bad.add(r[1] + "/" + r[2] + ": first block " + first + ", llama.cpp " + r[4]);
            else if (!sha.equals(r[3])) bad.add(r[1] + "/" + r[2] + ": bytes differ after the first block");
        }
        assertTrue(bad.isEmpty(), () -> bad.size() + " mismatches: " + String.join("\n", bad));
    }

    @Test
    void dequantizersMatchGgufPyOnRandomBlocks() throws IOException {
        List<String[]> refs = lines("D");
        assertEquals(12, refs.size(), "reference lines");
        for (String[] r : refs) {
            GgmlType type = GgmlType.valueOf(r[1]);
            int n = Integer.parseInt(r[2]);
            MemorySegment blocks = MemorySegment.ofArray(HexFormat.of().parseHex(r[3]));
            float[] y = Dequantize.dequantize(type, blocks, n);
            for (int k = 5; k < r.length; k++) {
                String[] p = r[k].split(":");
                int i = Integer.parseInt(p[0]);
                assertEquals(Integer.parseUnsignedInt(p[1], 16), Float.floatToRawIntBits(y[i]), type + " element " + i);
            }
            assertEquals(r[4], FixtureVerifier.sha256(y), type + ": SHA-256 of the dequantized values");
        }
    }

    @Test
    void q8KActivationsHaveNegativeScaleAndBlockSums() {
        float[] x = gauss(7, 256, 1.0);
        byte[] q = Quantize.quantize(GgmlType.Q8_K, x);
        MemorySegment s = MemorySegment.ofArray(q);
        float d = s.get(Blocks.F32, 0);
        float max = 0, amax = 0;
        for (float v : x) if (Math.abs(v) > amax) { amax = Math.abs(v); max = v; }
        assertEquals(1 / (-127f / max), d, 0f, "d = 1/iscale");
        for (int j = 0; j < 16; j++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) sum += q[4 + 16 * j + i];
            assertEquals(sum, s.get(Blocks.I16, 4 + 256 + 2L * j), "bsums[" + j + "]");
        }
    }

    @Test
    void unsupportedTypesFailWithTheirName() {
        MemorySegment z = MemorySegment.ofArray(new byte[1024]);
        var e = assertThrows(UnsupportedOperationException.class, () -> Dequantize.dequantize(GgmlType.IQ2_XXS, z, 256));
        assertTrue(e.getMessage().contains("IQ2_XXS"), e.getMessage());
        var e2 = assertThrows(UnsupportedOperationException.class, () -> Quantize.quantize(GgmlType.IQ2_XXS, new float[256]));
        assertTrue(e2.getMessage().contains("IQ2_XXS"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> Dequantize.dequantize(GgmlType.Q4_K, z, 100));
        assertTrue(e3.getMessage().contains("Q4_K"), e3.getMessage());
    }
}
