package org.jgemma.ggml;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * STYLE 10: each format's dequantized tiny weights stay within that format's written error budget of the F32
 * file's weights. Errors are normalised per block (|w' - w| / max|w| over the block; per element |w' - w| / |w| for
 * F16/BF16, with |w| floored at 2^-14 for F16, below which its values are subnormal with a fixed step of 2^-24) so
 * the bounds follow from the block layouts; RMS error is relative to the tensor's RMS.
 */
class ErrorBudgetTest {

    /** max normalised error, max relative RMS error. */
    record Budget(double maxBlockRel, double rmsRel) {}

    /**
     * The budget table. Derivations (d the block scale, amax the block's largest |w|, fp16 relative rounding 2^-11):
     * F16 2^-11 and BF16 2^-8 relative per element (round to nearest, half an ulp). Q8_0: d = amax/127, |err| <= d/2 + 127 d 2^-11
     * = 0.0044 amax. Q5_0: d = amax/16 and the +amax side clips 16 -> 15, |err| <= d = 0.0625 amax. Q4_0: likewise
     * d = amax/8, 0.125 amax. Q4_1 / Q5_1: d = range/15 (/31), range <= 2 amax, |err| <= d/2 + fp16(min) rounding.
     * K-quants search scales by weighted least squares (no closed bound), with 6-bit (Q4_K/Q5_K) or 8-bit (Q6_K)
     * sub-block scales and a min, so their budgets are measured-with-headroom: about 1.2x the value seen on tiny (Q4_K
     * 0.099, Q5_K 0.054, Q6_K 0.018 of the block amax), each below the worst case of the matching 32-block format
     * (Q4_0 0.125, Q5_0 0.0625, and 2x Q8_0's for 6 bits); RMS budgets keep ggml test-quantize-fns.cpp's ordering
     * (each extra bit halves the error).
     */
    static final Map<GgmlType, Budget> BUDGET = new EnumMap<>(Map.of(
            GgmlType.F16, new Budget(1.001 / 2048, 3e-4),
            GgmlType.BF16, new Budget(1.001 / 256, 2e-3),
            GgmlType.Q8_0, new Budget(0.0045, 0.0065),
            GgmlType.Q5_0, new Budget(0.0630, 0.045),
            GgmlType.Q4_0, new Budget(0.1260, 0.090),
            GgmlType.Q4_K, new Budget(0.1200, 0.080),
            GgmlType.Q5_K, new Budget(0.0650, 0.040),
            GgmlType.Q6_K, new Budget(0.0330, 0.020)));

    static final class Stats {
        double maxRel, sumErr2, sumW2, maxAbs;
        long n;

        void add(float[] w, float[] q, int block, double floor) {
            for (int b = 0; b < w.length; b += block) {
                double amax = floor, emax = 0;
                for (int i = b; i < b + block; i++) {
                    amax = Math.max(amax, Math.abs(w[i]));
                    double e = Math.abs((double) q[i] - w[i]);
                    emax = Math.max(emax, e);
                    sumErr2 += e * e;
                    sumW2 += (double) w[i] * w[i];
                    n++;
                }
                maxAbs = Math.max(maxAbs, emax);
                if (amax > 0) maxRel = Math.max(maxRel, emax / amax);
            }
        }

        double rmsRel() {
            return Math.sqrt(sumErr2 / sumW2);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"f16", "bf16", "q8_0", "q4_0", "q4_k_m", "q5_k_m", "q6_k"})
    void tinyWeightsWithinBudget(String fmt) throws Exception {
        Map<GgmlType, Stats> stats = new EnumMap<>(GgmlType.class);
        try (GgufFile f32 = GgufFile.open(Fixtures.model("tiny", "f32")); GgufFile qf = GgufFile.open(Fixtures.model("tiny", fmt))) {
            for (GgufTensorInfo t : qf.tensors()) {
                if (t.type() == GgmlType.F32) continue;
                GgufTensorInfo s = f32.tensor(t.name());
                float[] w = Dequantize.dequantize(GgmlType.F32, s.data(), s.elementCount());
                float[] q = Dequantize.dequantize(t.type(), t.data(), t.elementCount());
                stats.computeIfAbsent(t.type(), k -> new Stats()).add(w, q, t.type().blockSize, t.type() == GgmlType.F16 ? 0x1p-14 : 0);
            }
        }
        List<String> over = new ArrayList<>();
        stats.forEach((type, st) -> {
            Budget b = BUDGET.get(type);
            System.out.printf("error budget tiny %-7s %-5s max|err| %.3e  max|err|/block amax %.4f (budget %.4f)  RMS err/RMS w %.4f (budget %.4f)%n",
                    fmt, type, st.maxAbs, st.maxRel, b.maxBlockRel, st.rmsRel(), b.rmsRel);
            if (st.maxRel > b.maxBlockRel || st.rmsRel() > b.rmsRel) over.add(type + " in " + fmt);
        });
        assertTrue(!stats.isEmpty() && over.isEmpty(), () -> "over budget: " + over);
    }
}
