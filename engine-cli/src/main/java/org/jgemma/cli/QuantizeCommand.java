package org.jgemma.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jgemma.ggml.GgmlType;
import org.jgemma.quantize.QuantFormat;
import org.jgemma.quantize.Quantizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jgemma quantize IN.gguf OUT.gguf TYPE}: like llama-quantize without an importance matrix, byte for byte
 * (see {@link Quantizer}). Progress and warnings on stderr, a one-line summary on stdout.
 */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Quantize a GGUF model as llama-quantize does (same per-tensor types, same bytes).")
final class QuantizeCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IN", description = "input .gguf (F32, F16 or BF16 weights)") Path in;
    @Parameters(index = "1", paramLabel = "OUT", description = "output .gguf (replaced if it exists)") Path out;
    @Parameters(index = "2", paramLabel = "TYPE", description = "F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K_S, "
            + "Q3_K_M, Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K") String type;
    @Option(names = {"-t", "--threads"}, defaultValue = "0", description = "threads (0: all cores)") int threads;
    @Option(names = "--pure", description = "every quantizable tensor gets TYPE's default type (no mix, no promotions)") boolean pure;
    @Option(names = "--output-tensor-type", paramLabel = "T", description = "tensor type of output.weight (and of a tied token_embd)") String outputType;
    @Option(names = "--token-embedding-type", paramLabel = "T", description = "tensor type of token_embd.weight") String embdType;
    @Option(names = "--allow-requantize", description = "accept already-quantized input tensors (lower quality)") boolean allowRequantize;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter stdout = spec.commandLine().getOut();
        QuantFormat format = QuantFormat.parse(type);
        if (!Files.isRegularFile(in)) throw new java.nio.file.NoSuchFileException(in.toString());
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        Quantizer.Options o = new Quantizer.Options(format, n, pure, tensorType(outputType, "--output-tensor-type"),
                tensorType(embdType, "--token-embedding-type"), allowRequantize);
        Cli.ProgressBar bar = Cli.onTerminal() ? new Cli.ProgressBar(err, "quantizing to " + format) : null;
        long t0 = System.nanoTime();
        Quantizer.Result r = Quantizer.quantize(in, out, o, new Quantizer.Listener() {
            @Override
            public void progress(int index, int count, Quantizer.Planned tensor, long done, long total) {
                if (bar != null) bar.update(done, total);
            }

            @Override
            public void warning(String message) {
                err.println("warning: " + message);
                err.flush();
            }
        });
        double s = (System.nanoTime() - t0) / 1e9;
        stdout.printf(Locale.ROOT, "%s -> %s: %s, %d tensors, %.2f MiB -> %.2f MiB (%.2f bits per weight), %.1f s%n",
                in.getFileName(), out.getFileName(), format, r.tensors().size(), r.inputBytes() / 1048576.0,
                r.outputBytes() / 1048576.0, r.bitsPerWeight(), s);
        return 0;
    }

    /** A tensor type name as llama-quantize's --output-tensor-type takes it (q6_K, Q8_0, f16 ...). */
    static GgmlType tensorType(String name, String option) {
        if (name == null) return null;
        for (GgmlType t : GgmlType.values()) {
            if (t.name().equalsIgnoreCase(name.trim())) return t;
        }
        throw new IllegalArgumentException(option + ": unknown tensor type '" + name + "' (e.g. Q8_0, Q6_K, Q4_K, F16)");
    }
}
