package org.jgemma.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;
import org.junit.jupiter.api.Test;

/**
 * {@link TensorTypeRules} against llama.cpp's own snapshot of llama-quantize's type choices for gemma-3-4b-it
 * (tests/snapshots/gemma-3-4b-it.schema: per file type, every tensor whose type differs from the default), on the
 * 4B's tensor shapes (n_embd 2560, n_ff 10240, 34 layers, 8 heads, 4 KV heads, head_dim 256), and against the Q6_K
 * layer sets of FACTS §2.4 for the 270M and 1B shapes, whose n_embd is not a multiple of 256.
 */
class TensorTypeRulesTest {

    static GgufTensorInfo t(String name, long... ne) {
        return new GgufTensorInfo(name, GgmlType.F32, ne, 0, 0, 0, MemorySegment.NULL);
    }

    /** The 2-D weights and 1-D norms of a gemma3 text model. */
    static List<GgufTensorInfo> gemma3(int nEmbd, int nFf, int nLayer, int qDim, int kvDim) {
        List<GgufTensorInfo> l = new ArrayList<>();
        l.add(t("token_embd.weight", nEmbd, 262144));
        l.add(t("output_norm.weight", nEmbd));
        for (int i = 0; i < nLayer; i++) {
            String p = "blk." + i + ".";
            l.add(t(p + "attn_q.weight", nEmbd, qDim));
            l.add(t(p + "attn_k.weight", nEmbd, kvDim));
            l.add(t(p + "attn_v.weight", nEmbd, kvDim));
            l.add(t(p + "attn_output.weight", qDim, nEmbd));
            l.add(t(p + "ffn_gate.weight", nEmbd, nFf));
            l.add(t(p + "ffn_up.weight", nEmbd, nFf));
            l.add(t(p + "ffn_down.weight", nFf, nEmbd));
            for (String n : new String[] {"attn_norm", "attn_q_norm", "attn_k_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm"}) {
                l.add(t(p + n + ".weight", n.startsWith("attn_q") || n.startsWith("attn_k") ? 256 : nEmbd));
            }
        }
        return l;
    }

    /** Non-default tensor types of each schema section. */
    static Map<String, Map<String, String>> schema() throws IOException {
        Map<String, Map<String, String>> m = new LinkedHashMap<>();
        Map<String, String> cur = null;
        try (InputStream in = TensorTypeRulesTest.class.getResourceAsStream("/quantize/gemma-3-4b-it.schema")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) continue;
                if (line.startsWith("[")) {
                    cur = new TreeMap<>();
                    m.put(line.substring(1, line.indexOf(']')), cur);
                } else {
                    String[] f = line.trim().split(" ");
                    cur.put(f[0], f[1]);
                }
            }
        }
        return m;
    }

    static Map<String, String> nonDefault(QuantFormat f, List<GgufTensorInfo> tensors, int nHead, int nHeadKv, int nLayer) {
        TensorTypeRules rules = new TensorTypeRules(f, false, null, null, tensors, nHead, nHeadKv, nLayer);
        Map<String, String> m = new TreeMap<>();
        for (GgufTensorInfo t : Quantizer.llamaOrder(tensors)) {
            GgmlType type = rules.typeFor(t);
            if (TensorTypeRules.allowsQuantization(t) && type != f.defaultType) m.put(t.name(), type.ggmlName());
        }
        return m;
    }

    @Test
    void gemma3_4bMatchesLlamaCppsSnapshotForEveryType() throws IOException {
        Map<String, Map<String, String>> schema = schema();
        List<GgufTensorInfo> tensors = gemma3(2560, 10240, 34, 2048, 1024);
        int checked = 0;
        for (Map.Entry<String, Map<String, String>> e : schema.entrySet()) {
            if (e.getKey().equals("F32")) continue;
            QuantFormat f = QuantFormat.parse(e.getKey());
            assertEquals(e.getValue(), nonDefault(f, tensors, 8, 4, 34), e.getKey());
            checked++;
        }
        assertEquals(QuantFormat.values().length - 1, checked, "every type but F32 has a section");
    }

    @Test
    void smallModelsFallBackAndPromoteTheFactsLayers() {
        // FACTS §2.4: Q4_K_M attn_v / ffn_down get Q6_K in these layers (use_more_bits); with n_embd % 256 != 0
        // attn_v falls back to Q8_0 (from Q6_K) or Q5_0 (from Q4_K), ffn_down (rows of n_ff) stays Q6_K / Q4_K.
        int[][] q6 = {{0, 1, 4, 7, 10, 13, 15, 16, 17}, {0, 1, 2, 5, 8, 11, 14, 17, 20, 22, 23, 24, 25}};
        int[][] shape = {{640, 2048, 18, 1024, 256}, {1152, 6912, 26, 1024, 256}};
        for (int s = 0; s < 2; s++) {
            int nLayer = shape[s][2];
            Map<String, String> m = nonDefault(QuantFormat.Q4_K_M, gemma3(shape[s][0], shape[s][1], nLayer, shape[s][3], shape[s][4]), 4, 1, nLayer);
            List<Integer> want = new ArrayList<>();
            for (int i : q6[s]) want.add(i);
            for (int i = 0; i < nLayer; i++) {
                boolean more = want.contains(i);
                String p = "blk." + i + ".";
                assertEquals(more ? "q8_0" : "q5_0", m.get(p + "attn_v.weight"), p + "attn_v");
                assertEquals(more ? "q6_K" : null, m.get(p + "ffn_down.weight"), p + "ffn_down");
                assertEquals("q5_0", m.get(p + "attn_q.weight"), p + "attn_q");
                assertEquals(null, m.get(p + "attn_output.weight"), p + "attn_output stays q4_K (rows of 1024)");
            }
            assertEquals("q8_0", m.get("token_embd.weight"), "tied output with rows of " + shape[s][0]);
        }
        assertEquals("Q4_K_M", QuantFormat.parse("q4_k_m").name().toUpperCase(Locale.ROOT));
    }
}
