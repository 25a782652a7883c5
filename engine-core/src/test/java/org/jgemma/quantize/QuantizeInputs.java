package org.jgemma.quantize;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jgemma.ggml.Dequantize;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.gguf.GgufValue;
import org.jgemma.gguf.GgufWriter;
import org.jgemma.testing.Fixtures;

/**
 * The inputs the quantize tests give both llama-quantize and {@link Quantizer}: the committed tiny F32 and its F16
 * (the converter's, re-derived), and F32 files made by dequantizing the committed tinymix Q4_1 and tinygqa Q4_K_M
 * fixtures (same keys and tensor order, {@code general.file_type = 0}): tinymix has rows of 320 (the fallback types
 * of the real 270M/1B shapes), tinygqa n_gqa = 2 (the other branch of Q2_K's attn_v rule).
 * {@code -Djgemma.quantize.dumpInputs=DIR} writes them to DIR for running llama-quantize on them.
 */
final class QuantizeInputs {
    private QuantizeInputs() {}

    static final String[] NAMES = {"tiny-f32", "tiny-f16", "tinymix-f32", "tinygqa-f32"};

    static synchronized Path input(String name) throws IOException {
        return switch (name) {
            case "tiny-f32" -> Fixtures.model("tiny", "f32");
            case "tiny-f16" -> Fixtures.model("tiny", "f16");
            case "tinymix-f32" -> dequantized(Fixtures.model("tinymix", "q4_1"), "tinymix-f32");
            case "tinygqa-f32" -> dequantized(Fixtures.model("tinygqa", "q4_k_m"), "tinygqa-f32");
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** {@code src} with every tensor dequantized to F32. */
    private static Path dequantized(Path src, String name) throws IOException {
        Path out = Fixtures.cacheDir().resolve("quantize").resolve(name + ".gguf");
        if (Files.exists(out)) return out;
        Files.createDirectories(out.getParent());
        try (GgufFile f = GgufFile.open(src)) {
            GgufWriter w = new GgufWriter().putAll(f.metadata());
            w.put("general.file_type", GgufValue.ofUInt32(0));
            for (GgufTensorInfo t : f.tensors()) {
                float[] x = Dequantize.dequantize(t.type(), t.data(), t.elementCount());
                byte[] b = new byte[x.length * 4];
                java.lang.foreign.MemorySegment.copy(x, 0, java.lang.foreign.MemorySegment.ofArray(b),
                        java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0, x.length);
                w.addTensor(t.name(), GgmlType.F32, t.ne(), b);
            }
            Path tmp = Files.createTempFile(out.getParent(), name, ".tmp");
            w.write(tmp);
            Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return out;
    }
}
