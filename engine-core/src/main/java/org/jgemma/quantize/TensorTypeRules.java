package org.jgemma.quantize;

import java.util.List;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;

/**
 * Which type llama-quantize gives each tensor, ported from llama.cpp src/llama-quant.cpp (d32676d):
 * tensor_allows_quantization, tensor_get_category, llama_tensor_get_type (the outer wrapper with the
 * --token-embedding-type / --output-tensor-type overrides and --pure), llama_tensor_get_type_impl (the mix rules:
 * attn_v / ffn_down / attn_output promotions, the tied-output rule) and tensor_type_fallback (rows that are not a
 * multiple of the block size). Only the branches reachable from the formats of {@link QuantFormat} are ported, for
 * dense models (n_expert = 0, no Falcon, no 70B special case).
 * <p>The rules keep counters (i_attention_wv, i_ffn_down ...) that advance as tensors are visited, so
 * {@link #typeFor} must be called once per tensor in llama-quantize's order ({@link Quantizer#llamaOrder}).
 */
public final class TensorTypeRules {
    /** tensor_category. */
    enum Category { OUTPUT, TOKEN_EMBD, ATTENTION_QKV, ATTENTION_KV_B, ATTENTION_V, ATTENTION_K, ATTENTION_Q,
        ATTENTION_OUTPUT, FFN_UP, FFN_GATE, FFN_DOWN, OTHER }

    private final QuantFormat format;
    private final boolean pure;
    private final GgmlType outputTensorType;   // null: not given
    private final GgmlType tokenEmbeddingType; // null: not given
    private final int nGqa;
    private final int nLayer;
    private final int nAttentionWv;
    private final boolean hasTiedEmbeddings;
    private int iAttentionWv, iFfnDown, iFfnGate, iFfnUp;
    private int nFallback;

    /**
     * @param tensors all tensors of the input, in any order (to count attn_v tensors and find output.weight)
     * @param nHead   attention heads of layer 0, {@code nHeadKv} its KV heads (n_gqa = nHead / nHeadKv)
     * @param nLayer  the model's block count (n_layer_all)
     */
    public TensorTypeRules(QuantFormat format, boolean pure, GgmlType outputTensorType, GgmlType tokenEmbeddingType,
                           List<GgufTensorInfo> tensors, int nHead, int nHeadKv, int nLayer) {
        this.format = format;
        this.pure = pure;
        this.outputTensorType = outputTensorType;
        this.tokenEmbeddingType = tokenEmbeddingType;
        this.nGqa = nHeadKv > 0 ? nHead / nHeadKv : 0;
        this.nLayer = nLayer;
        int nv = 0;
        boolean tied = true;
        for (GgufTensorInfo t : tensors) { // init_quantize_state_counters
            Category c = category(t.name());
            if (c == Category.ATTENTION_V || c == Category.ATTENTION_QKV || c == Category.ATTENTION_KV_B) nv++;
            if (c == Category.OUTPUT) tied = false;
        }
        this.nAttentionWv = nv;
        this.hasTiedEmbeddings = tied;
    }

    /** Tensors that needed a fallback type so far (llama-quantize's "required fallback quantization" count). */
    public int fallbackCount() {
        return nFallback;
    }

    /** tensor_allows_quantization, the parts that can match a gemma3 (or other dense text) model's names. */
    public static boolean allowsQuantization(GgufTensorInfo t) {
        if (t.nDims() < 2) return false;
        String name = t.name();
        boolean q = name.endsWith("weight");
        q &= !name.contains("_norm.weight");
        q &= !name.contains("ffn_gate_inp.weight");
        q &= !name.contains("altup") && !name.contains("laurel") && !name.contains("per_layer_model_proj");
        q &= !name.equals("position_embd.weight") && !name.equals("token_types.weight");
        q &= !name.contains("ssm_conv1d") && !name.contains("attn_rel_b.weight");
        q &= !name.contains(".position_embd") && !name.contains(".rel_pos") && !name.contains(".patch_embd")
                && !name.contains(".patch_merger");
        return q;
    }

    /** tensor_get_category. */
    static Category category(String name) {
        if (name.equals("output.weight")) return Category.OUTPUT;
        if (name.equals("token_embd.weight") || name.equals("per_layer_token_embd.weight")) return Category.TOKEN_EMBD;
        if (name.contains("attn_qkv.weight")) return Category.ATTENTION_QKV;
        if (name.contains("attn_kv_b.weight")) return Category.ATTENTION_KV_B;
        if (name.contains("attn_v.weight")) return Category.ATTENTION_V;
        if (name.contains("attn_k.weight")) return Category.ATTENTION_K;
        if (name.contains("attn_q.weight")) return Category.ATTENTION_Q;
        if (name.contains("attn_output.weight")) return Category.ATTENTION_OUTPUT;
        if (name.contains("ffn_up")) return Category.FFN_UP;
        if (name.contains("ffn_gate")) return Category.FFN_GATE;
        if (name.contains("ffn_down")) return Category.FFN_DOWN;
        return Category.OTHER;
    }

    /** llama-quant.cpp :: use_more_bits. */
    static boolean useMoreBits(int i, int n) {
        return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
    }

    /** llama_tensor_get_type: the type {@code t} gets in the output file. Call once per tensor, in llama order. */
    public GgmlType typeFor(GgufTensorInfo t) {
        if (!allowsQuantization(t)) return t.type();
        Category cat = category(t.name());
        if (tokenEmbeddingType != null && cat == Category.TOKEN_EMBD) return tokenEmbeddingType;
        if (outputTensorType != null && cat == Category.OUTPUT) return outputTensorType;
        GgmlType type = format.defaultType;
        if (format.quantized()) {
            if (!pure) type = mix(type, t, cat);
            type = fallback(t, type);
        }
        return type;
    }

    /** llama_tensor_get_type_impl for the k-quant and legacy formats. */
    private GgmlType mix(GgmlType type, GgufTensorInfo t, Category cat) {
        QuantFormat f = format;
        if (cat == Category.OUTPUT || (hasTiedEmbeddings && cat == Category.TOKEN_EMBD)) {
            if (outputTensorType != null) return outputTensorType;
            long nx = t.rowLength();
            if (nx % type.blockSize != 0) return GgmlType.Q8_0;
            return type != GgmlType.Q8_0 ? GgmlType.Q6_K : type;
        }
        switch (cat) {
            case TOKEN_EMBD -> { } // untied: stays the default (the IQ/TQ branches do not apply)
            case ATTENTION_V, ATTENTION_QKV, ATTENTION_KV_B -> { // category_is_attn_v comes first in the chain
                if (f == QuantFormat.Q2_K) type = nGqa >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
                else if (f == QuantFormat.Q3_K_M) type = iAttentionWv < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
                else if (f == QuantFormat.Q3_K_L) type = GgmlType.Q5_K;
                else if ((f == QuantFormat.Q4_K_M || f == QuantFormat.Q5_K_M) && useMoreBits(iAttentionWv, nAttentionWv)) type = GgmlType.Q6_K;
                else if (f == QuantFormat.Q4_K_S && iAttentionWv < 4) type = GgmlType.Q5_K;
                iAttentionWv++;
            }
            case FFN_DOWN -> {
                int i = iFfnDown, n = nLayer;
                if (f == QuantFormat.Q2_K) type = GgmlType.Q3_K;
                else if (f == QuantFormat.Q3_K_M) type = i < n / 16 ? GgmlType.Q5_K : GgmlType.Q4_K;
                else if (f == QuantFormat.Q3_K_L) type = GgmlType.Q5_K;
                else if (f == QuantFormat.Q4_K_M) { if (useMoreBits(i, n)) type = GgmlType.Q6_K; }
                else if (f == QuantFormat.Q5_K_M && useMoreBits(i, n)) type = GgmlType.Q6_K;
                else if (f == QuantFormat.Q4_K_S && i < n / 8) type = GgmlType.Q5_K;
                iFfnDown++;
            }
            case ATTENTION_OUTPUT -> {
                if (f == QuantFormat.Q2_K) type = GgmlType.Q3_K;
                else if (f == QuantFormat.Q3_K_M) type = GgmlType.Q4_K;
                else if (f == QuantFormat.Q3_K_L) type = GgmlType.Q5_K;
            }
            case FFN_GATE -> iFfnGate++;
            case FFN_UP -> iFfnUp++;
            default -> { }
        }
        return type;
    }

    /** tensor_type_fallback: a type whose block divides the row length. */
    private GgmlType fallback(GgufTensorInfo t, GgmlType type) {
        long ncols = t.rowLength();
        if (ncols % type.blockSize == 0) return type;
        nFallback++;
        GgmlType r = switch (type) {
            case Q2_K, Q3_K -> GgmlType.Q4_0;
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            case Q6_K -> GgmlType.Q8_0;
            default -> throw new IllegalArgumentException("tensor '" + t.name() + "': row length " + ncols
                    + " is not a multiple of " + type + "'s block size " + type.blockSize + " and " + type + " has no fallback type");
        };
        return ncols % r.blockSize != 0 ? GgmlType.F16 : r;
    }
}
