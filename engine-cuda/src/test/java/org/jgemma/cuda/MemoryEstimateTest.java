package org.jgemma.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;
import org.junit.jupiter.api.Test;

/** The memory estimate, without a GPU: sizes from the GGUF block tables and the gemma3 shapes (FACTS §5). */
class MemoryEstimateTest {
    private static GgufTensorInfo tensor(String name, GgmlType type, long cols, long rows) {
        return new GgufTensorInfo(name, type, new long[] {cols, rows}, 0, 0, type.byteSize(cols * rows), null);
    }

    @Test
    void weightBytesAreThePackedSizes() {
        // token_embd of gemma3 4B in Q6_K: 262144 rows of 2560 → 10 blocks of 210 bytes a row
        long embd = 262144L * 10 * 210;
        // a Q4_K ffn_up [2560, 10240]: 10240 rows of 10 blocks of 144 bytes
        long up = 10240L * 10 * 144;
        assertEquals(embd + up + 2560 * 4, MemoryEstimate.weightBytes(List.of(
                tensor("token_embd.weight", GgmlType.Q6_K, 2560, 262144), tensor("blk.0.ffn_up.weight", GgmlType.Q4_K, 2560, 10240),
                tensor("output_norm.weight", GgmlType.F32, 2560, 1))));
    }

    @Test
    void kvBytesAreF16KAndVPerLayer() {
        // gemma3 4B: 34 layers, KV width 1024, 8192 slots: 2 (K,V) · 2 bytes · 34 · 8192 · 1024 = 1.0625 GiB
        assertEquals(2L * 2 * 34 * 8192 * 1024, MemoryEstimate.kvBytes(34, 8192, 1024));
    }

    @Test
    void aModelThatDoesNotFitFailsWithTheNumbersAndWhatToTry() {
        long gib = 1L << 30;
        MemoryEstimate e = new MemoryEstimate(14 * gib, 6 * gib, gib / 2, 16 * gib, 16 * gib);
        assertFalse(e.fits());
        var x = assertThrows(IllegalStateException.class, () -> e.check("Tesla T4"));
        String m = x.getMessage();
        for (String part : List.of("20.50 GiB", "Tesla T4", "weights 14.00 GiB", "KV cache 6.00 GiB", "scratch 0.50 GiB",
                "16.00 GiB", "smaller quantization", "shorter context", "--backend cpu")) {
            assertTrue(m.contains(part), () -> "message lacks '" + part + "': " + m);
        }
    }

    @Test
    void aModelThatFitsWithHeadroomPasses() {
        long gib = 1L << 30;
        MemoryEstimate e = new MemoryEstimate(3 * gib, gib, gib / 4, 79 * gib, 80 * gib);
        assertTrue(e.fits());
        e.check("H100");
        assertFalse(new MemoryEstimate(gib, 0, 0, gib + MemoryEstimate.HEADROOM - 1, 2 * gib).fits());
        assertTrue(new MemoryEstimate(gib, 0, 0, gib + MemoryEstimate.HEADROOM, 2 * gib).fits());
    }
}
