package org.jgemma.testing;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jgemma.ggml.Dequantize;
import org.jgemma.ggml.GgmlType;
import org.jgemma.ggml.Quantize;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.gguf.GgufValue;
import org.jgemma.gguf.GgufValueType;
import org.jgemma.gguf.GgufWriter;

/**
 * Re-creates, from the committed F32 fixture, the fixture GGUFs that are too large to commit, exactly as the shared
 * fixtures were made (shared/tools/make_fixtures.sh): F16/BF16 as llama.cpp's convert_hf_to_gguf.py writes them
 * (same tensor and key order as the F32 file, round-to-nearest-even) and the quantized files as llama-quantize
 * writes them without an importance matrix (src/llama-quant.cpp: tensors sorted by layer then name, type chosen by
 * llama_tensor_get_type_impl, data from the quantize_row_*_ref quantizers, general.quantization_version and
 * general.file_type moved to the end). Verified by the caller against the SHA-256 of the original.
 */
final class FixtureDerivation {
    private FixtureDerivation() {}

    /** A derivable target: the llama.cpp ftype it stands for and its default tensor type. */
    enum Target {
        F16(1, GgmlType.F16), BF16(32, GgmlType.BF16),
        Q8_0(7, GgmlType.Q8_0), Q4_0(2, GgmlType.Q4_0), Q4_1(3, GgmlType.Q4_1), Q5_0(8, GgmlType.Q5_0),
        Q5_1(9, GgmlType.Q5_1), Q4_K_M(15, GgmlType.Q4_K), Q5_K_M(17, GgmlType.Q5_K), Q6_K(18, GgmlType.Q6_K);

        final int ftype;
        final GgmlType base;

        Target(int ftype, GgmlType base) {
            this.ftype = ftype;
            this.base = base;
        }

        boolean converter() {
            return this == F16 || this == BF16;
        }

        static Target of(String fmt) {
            try {
                return valueOf(fmt.toUpperCase());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("no derivation for format '" + fmt + "'");
            }
        }
    }

    private static final Pattern LAYER = Pattern.compile("^blk\\.(\\d+)\\.");

    /** The layer of a tensor name, -1 for non-layer tensors (llama-model-loader.h :: weight_name_comparer). */
    static int layerOf(String name) {
        Matcher m = LAYER.matcher(name);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** llama-quant.cpp :: use_more_bits. */
    static boolean useMoreBits(int i, int n) {
        return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
    }

    /**
     * The type llama-quantize (or, for F16/BF16, the converter) gives {@code t} for target {@code tg}, for gemma3 files
     * without output.weight (token_embd is the tied output): FACTS.md §2.4; llama-quant.cpp :: tensor_allows_quantization,
     * llama_tensor_get_type_impl, tensor_type_fallback.
     */
    static GgmlType typeFor(Target tg, GgufTensorInfo t, int nLayer) {
        String name = t.name();
        boolean quantizable = t.nDims() >= 2 && name.endsWith(".weight") && !name.contains("_norm.weight");
        if (!quantizable) return t.type();
        if (tg.converter()) return tg.base;
        GgmlType type = tg.base;
        if (name.equals("token_embd.weight")) { // tied output: Q8_0 stays, else Q6_K
            type = tg == Target.Q8_0 ? GgmlType.Q8_0 : GgmlType.Q6_K;
        } else if ((tg == Target.Q4_K_M || tg == Target.Q5_K_M) && (name.contains("attn_v.weight") || name.contains("ffn_down"))) {
            if (useMoreBits(layerOf(name), nLayer)) type = GgmlType.Q6_K;
        }
        if (t.rowLength() % type.blockSize != 0) {
            type = switch (type) {
                case Q4_K -> GgmlType.Q5_0;
                case Q5_K -> GgmlType.Q5_1;
                case Q6_K -> GgmlType.Q8_0;
                default -> throw new IllegalStateException(name + ": no fallback for " + type);
            };
        }
        return type;
    }

    /** Writes the derived {@code fmt} version of the F32 file {@code f32} to {@code out}. */
    static void derive(Path f32, String fmt, Path out) throws IOException {
        Target tg = Target.of(fmt);
        try (GgufFile src = GgufFile.open(f32)) {
            int nLayer = src.getInt(src.getString("general.architecture") + ".block_count");
            GgufWriter w = new GgufWriter();
            w.putAll(src.metadata());
            if (tg.converter()) {
                w.put("general.file_type", GgufValue.scalar(GgufValueType.UINT32, (long) tg.ftype));
            } else {
                GgufValue qv = src.metadata().get("general.quantization_version");
                w.remove("general.quantization_version").remove("general.file_type");
                w.put("general.quantization_version", qv != null ? qv : GgufValue.scalar(GgufValueType.UINT32, 2L));
                w.put("general.file_type", GgufValue.scalar(GgufValueType.UINT32, (long) tg.ftype));
            }
            List<GgufTensorInfo> tensors = new ArrayList<>(src.tensors());
            if (!tg.converter()) {
                tensors.sort(Comparator.comparingInt((GgufTensorInfo t) -> layerOf(t.name())).thenComparing(GgufTensorInfo::name));
            }
            for (GgufTensorInfo t : tensors) {
                GgmlType type = typeFor(tg, t, nLayer);
                if (type == t.type()) {
                    w.addTensor(t.name(), type, t.ne(), t.data());
                    continue;
                }
                if (t.type() != GgmlType.F32) throw new IllegalStateException(t.name() + ": source is " + t.type() + ", not F32");
                float[] x = Dequantize.dequantize(GgmlType.F32, t.data(), t.elementCount());
                w.addTensor(t.name(), type, t.ne(), Quantize.quantize(type, x));
            }
            w.write(out);
        }
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

}
