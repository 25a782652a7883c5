package org.jgemma.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jgemma.api.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jgemma perplexity MODEL --file F}: perplexity as llama-perplexity computes it (tools/perplexity): the text
 * (with BOS) is cut into non-overlapping chunks of {@code ctx} tokens, each chunk's first token replaced by BOS, and
 * only the second half of each chunk is scored (positions ctx/2 .. ctx-2 predict the next token).
 */
@Command(name = "perplexity", mixinStandardHelpOptions = true, description = "Perplexity of a model on a text file.")
final class PerplexityCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "a .gguf file or an Ollama model (name:tag)") String model;
    @Option(names = {"-f", "--file"}, required = true, paramLabel = "F") Path file;
    @Option(names = {"-c", "--ctx-size"}, defaultValue = "512") int ctx;
    @Option(names = "--chunks", defaultValue = "-1", description = "most chunks to score (-1: all)") int maxChunks;
    @Mixin CommonOptions common;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        String text = Files.readString(file);
        if (ctx < 4) throw new IllegalArgumentException("--ctx-size must be at least 4, got " + ctx);
        try (Model m = Cli.open(Cli.resolveModel(model), common.modelOptions(ctx), spec.commandLine().getErr())) {
            int[] tokens = m.tokenize(text, true, false);
            if (tokens.length < 2 * ctx) {
                throw new IllegalArgumentException("the text has " + tokens.length + " tokens; perplexity with a context of " + ctx
                        + " needs at least " + 2 * ctx);
            }
            int nChunk = tokens.length / ctx;
            if (maxChunks >= 0) nChunk = Math.min(nChunk, maxChunks);
            int nv = m.vocabSize();
            int first = ctx / 2;
            Model.RawSequence seq = m.newRawSequence();
            double nll = 0, nll2 = 0;
            long count = 0;
            for (int c = 0; c < nChunk; c++) {
                int[] chunk = java.util.Arrays.copyOfRange(tokens, c * ctx, (c + 1) * ctx);
                if (m.bosToken() >= 0) chunk[0] = m.bosToken();
                seq.reset();
                float[] logits = seq.evaluateAll(chunk); // [ctx][n_vocab]
                for (int j = first; j < ctx - 1; j++) {
                    double v = -logSoftmax(logits, j * nv, nv, chunk[j + 1]);
                    nll += v;
                    nll2 += v * v;
                    count++;
                }
                out.printf(Locale.ROOT, "[%d]%.4f,", c + 1, Math.exp(nll / count));
                out.flush();
            }
            double mean = nll / count;
            double var = nll2 / count - mean * mean;
            double ppl = Math.exp(mean);
            double err = count > 1 && var > 0 ? ppl * Math.sqrt(var / (count - 1)) : 0;
            out.println();
            out.printf(Locale.ROOT, "Final estimate: PPL = %.4f +/- %.5f (%d chunks of %d tokens, %d scored)%n", ppl, err, nChunk, ctx, count);
        }
        return 0;
    }

    /** log softmax(row)[tok] for the row at {@code off} (llama-perplexity's log_softmax, in double). */
    static double logSoftmax(float[] x, int off, int n, int tok) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(x[off + i] - max);
        return x[off + tok] - max - Math.log(sum);
    }
}
