package org.jgemma.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.ollama.ModelReference;

/**
 * What {@code jgemma show MODEL} and the chat's {@code /show info} print, in {@code ollama show}'s layout: the model
 * (architecture, parameters, context length, embedding length, quantization), then the Ollama params, system
 * message and license when the model has them.
 */
record ModelInfo(String architecture, long parameters, long contextLength, long embeddingLength, String quantization) {

    static ModelInfo of(ModelReference ref) throws IOException {
        try (GgufFile f = GgufFile.open(ref.path())) {
            String arch = f.findString("general.architecture").orElse("unknown");
            long params = 0;
            Map<GgmlType, Long> bytesByType = new EnumMap<>(GgmlType.class);
            for (GgufTensorInfo t : f.tensors()) {
                if (t.name().startsWith("v.") || t.name().startsWith("mm.")) continue; // Ollama's vision tower (FACTS §6.1)
                params += t.elementCount();
                if (t.nDims() >= 2) bytesByType.merge(t.type(), t.byteSize(), Long::sum);
            }
            long ctx = longOr(f, arch + ".context_length");
            long embd = longOr(f, arch + ".embedding_length");
            return new ModelInfo(arch, params, ctx, embd, quantization(f, bytesByType));
        }
    }

    private static long longOr(GgufFile f, String key) {
        try {
            return f.has(key) ? f.getLong(key) : 0;
        } catch (RuntimeException | org.jgemma.gguf.GgufFormatException e) {
            return 0;
        }
    }

    /** llama.cpp's file type name ({@code general.file_type}, LLAMA_FTYPE_MOSTLY_*), else the type most weight bytes have. */
    private static String quantization(GgufFile f, Map<GgmlType, Long> bytesByType) {
        String[] names = {"F32", "F16", "Q4_0", "Q4_1", null, null, null, "Q8_0", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S",
                "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ2_XXS", "IQ2_XS", "Q2_K_S",
                "IQ3_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ3_M", "IQ2_S", "IQ2_M", "IQ4_XS", "IQ1_M", "BF16"};
        // llama.cpp include/llama.h enum llama_ftype (values 4-6 are removed formats)
        try {
            int ft = f.findInt("general.file_type").orElse(-1);
            if (ft >= 0 && ft < names.length && names[ft] != null) return names[ft];
        } catch (RuntimeException | org.jgemma.gguf.GgufFormatException e) {
            // a wrongly typed key: fall back to the tensors
        }
        return bytesByType.entrySet().stream().max(Map.Entry.comparingByValue()).map(e -> e.getKey().name()).orElse("unknown");
    }

    static String parameterCount(long n) {
        if (n >= 1_000_000_000L) return String.format(Locale.ROOT, "%.1fB", n / 1e9);
        if (n >= 1_000_000L) return String.format(Locale.ROOT, "%.0fM", n / 1e6);
        if (n >= 1_000L) return String.format(Locale.ROOT, "%.0fK", n / 1e3);
        return Long.toString(n);
    }

    /** The "Model" block, then Parameters / System / License blocks for what the model has ({@code ollama show}). */
    void print(ModelReference ref, PrintWriter out) {
        out.println("  Model");
        row(out, "architecture", architecture);
        row(out, "parameters", parameterCount(parameters));
        if (contextLength > 0) row(out, "context length", Long.toString(contextLength));
        if (embeddingLength > 0) row(out, "embedding length", Long.toString(embeddingLength));
        row(out, "quantization", quantization);
        row(out, "file", ref.path().toString());
        out.println();
        if (!ref.params().isEmpty()) {
            out.println("  Parameters");
            printParams(ref.params(), out, "    ");
            out.println();
        }
        if (ref.system() != null && !ref.system().isBlank()) {
            out.println("  System");
            ref.system().strip().lines().limit(8).forEach(l -> out.println("    " + l));
            out.println();
        }
        if (!ref.license().isEmpty()) {
            out.println("  License");
            ref.license().getFirst().strip().lines().limit(2).forEach(l -> out.println("    " + l));
            out.println();
        }
    }

    /** One line per value, stop strings one line each, as {@code ollama show --parameters} prints them. */
    static void printParams(Map<String, Object> params, PrintWriter out, String indent) {
        params.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            if (e.getValue() instanceof java.util.List<?> l) {
                for (Object v : l) out.printf(Locale.ROOT, "%s%-15s %s%n", indent, e.getKey(), quote(v));
            } else {
                out.printf(Locale.ROOT, "%s%-15s %s%n", indent, e.getKey(), quote(e.getValue()));
            }
        });
    }

    private static String quote(Object v) {
        return v instanceof String s ? "\"" + s + "\"" : String.valueOf(v);
    }

    private static void row(PrintWriter out, String k, String v) {
        out.printf(Locale.ROOT, "    %-20s%s%n", k, v);
    }
}
