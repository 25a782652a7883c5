package org.jgemma.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.jgemma.ggml.GgmlType;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Quantizer} writes the same bytes as llama-quantize (llama.cpp d32676d, no importance matrix): whole-file
 * SHA-256 equal to the files llama-quantize made from the same inputs ({@link QuantizeInputs}), for every type and
 * input listed in {@code quantize/llama-quantize.sha256} (made by tools/quantize-refs.sh).
 */
class QuantizerTest {

    static Stream<Arguments> references() throws IOException {
        List<Arguments> l = new ArrayList<>();
        try (InputStream in = QuantizerTest.class.getResourceAsStream("/quantize/llama-quantize.sha256")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] f = line.trim().split("\\s+"); // input type [options...] sha256
                l.add(Arguments.of(f[0], f[1], f[f.length - 1], List.of(f).subList(2, f.length - 1)));
            }
        }
        return l.stream();
    }

    @ParameterizedTest(name = "{0} {1} {3}")
    @MethodSource("references")
    void sameBytesAsLlamaQuantize(String input, String type, String sha, List<String> opts, @TempDir Path dir) throws Exception {
        Path out = dir.resolve(input + "-" + type + ".gguf");
        boolean pure = opts.contains("--pure");
        GgmlType outType = opts.contains("--output-tensor-type") ? GgmlType.valueOf(opts.get(opts.indexOf("--output-tensor-type") + 1)) : null;
        Quantizer.Options o = new Quantizer.Options(QuantFormat.parse(type), 2, pure, outType, null, false);
        Quantizer.quantize(QuantizeInputs.input(input), out, o, new Quantizer.Listener() {});
        assertEquals(sha, Fixtures.sha256(out), input + " -> " + type + " " + opts);
    }

    @Test
    void refusesQuantizedInputWithoutAllowRequantizeAndSameOutputAsInput(@TempDir Path dir) throws Exception {
        Path q = Fixtures.model("tiny", "q8_0");
        var e = assertThrows(IllegalArgumentException.class,
                () -> Quantizer.quantize(q, dir.resolve("x.gguf"), Quantizer.Options.of(QuantFormat.Q4_K_M), new Quantizer.Listener() {}));
        assertTrue(e.getMessage().contains("--allow-requantize") && e.getMessage().contains("Q8_0"), e.getMessage());
        assertTrue(Files.list(dir).findAny().isEmpty(), "no partial output left");
        assertThrows(IllegalArgumentException.class,
                () -> Quantizer.quantize(q, q, Quantizer.Options.of(QuantFormat.Q4_K_M), new Quantizer.Listener() {}));
        List<String> warnings = new ArrayList<>();
        Quantizer.quantize(q, dir.resolve("y.gguf"), new Quantizer.Options(QuantFormat.Q4_K_M, 2, false, null, null, true),
                new Quantizer.Listener() {
                    @Override public void warning(String m) { warnings.add(m); }
                });
        assertTrue(warnings.stream().anyMatch(w -> w.contains("requantizing")), warnings.toString());
    }

    @Test
    void memoryStaysBoundedWhateverTheTensorSize() {
        // a slab holds at most SLAB_ELEMENTS floats of input: 16 MB, so a 4 GB F32 file needs no more heap than a small one
        assertTrue(Quantizer.SLAB_ELEMENTS * 4L <= 16L << 20);
    }

    @Test
    void unknownTypesAreNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> QuantFormat.parse("Q4_K_X"));
        assertTrue(e.getMessage().contains("Q4_K_X") && e.getMessage().contains("Q4_K_M"), e.getMessage());
    }

    /** Writes the inputs for llama-quantize: -Djgemma.quantize.dumpInputs=DIR. */
    @Test
    void dumpInputs() throws Exception {
        String dir = System.getProperty("jgemma.quantize.dumpInputs");
        org.junit.jupiter.api.Assumptions.assumeTrue(dir != null, "only writes the inputs for tools/quantize-refs.sh when -Djgemma.quantize.dumpInputs=DIR is set");
        for (String n : QuantizeInputs.NAMES) Files.copy(QuantizeInputs.input(n), Path.of(dir, n + ".gguf"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
