package org.jgemma.quantize;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.jgemma.ggml.GgmlType;

/**
 * The file types {@code jgemma quantize} writes: llama.cpp's {@code enum llama_ftype} values (include/llama.h, stored
 * as {@code general.file_type}) with the default tensor type of each (src/llama-quant.cpp ::
 * llama_ftype_get_default_type). The _S/_M/_L mixes share a default type and differ in {@link TensorTypeRules}.
 */
public enum QuantFormat {
    F32(0, GgmlType.F32), F16(1, GgmlType.F16), BF16(32, GgmlType.BF16),
    Q8_0(7, GgmlType.Q8_0), Q4_0(2, GgmlType.Q4_0), Q4_1(3, GgmlType.Q4_1), Q5_0(8, GgmlType.Q5_0), Q5_1(9, GgmlType.Q5_1),
    Q2_K(10, GgmlType.Q2_K), Q3_K_S(11, GgmlType.Q3_K), Q3_K_M(12, GgmlType.Q3_K), Q3_K_L(13, GgmlType.Q3_K),
    Q4_K_S(14, GgmlType.Q4_K), Q4_K_M(15, GgmlType.Q4_K), Q5_K_S(16, GgmlType.Q5_K), Q5_K_M(17, GgmlType.Q5_K),
    Q6_K(18, GgmlType.Q6_K);

    /** The {@code llama_ftype} number written as {@code general.file_type}. */
    public final int ftype;
    /** The type most tensors get (llama_ftype_get_default_type). */
    public final GgmlType defaultType;

    QuantFormat(int ftype, GgmlType defaultType) {
        this.ftype = ftype;
        this.defaultType = defaultType;
    }

    /** Whether the default type is a block-quantized one (ggml_is_quantized): only then the mix rules apply. */
    public boolean quantized() {
        return defaultType.blockSize > 1;
    }

    /** Parses a name as llama-quantize spells it (case-insensitive: {@code Q4_K_M}, {@code q4_k_m}, {@code f16}). */
    public static QuantFormat parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown quantization type '" + name + "'; one of " + names());
        }
    }

    /** The format whose {@code general.file_type} is {@code ftype}, or null. */
    public static QuantFormat byFtype(long ftype) {
        for (QuantFormat f : values()) if (f.ftype == ftype) return f;
        return null;
    }

    /** All names, comma-separated. */
    public static String names() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }
}
