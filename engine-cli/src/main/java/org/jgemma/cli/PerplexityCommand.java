package org.jgemma.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jgemma.api.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jgemma perplexity MODEL --file F}: perplexity as llama-perplexity computes it (tools/perplexity/perplexity.cpp
 * :: perplexity): the text (with BOS) is cut into non-overlapping chunks of {@code ctx} tokens, each chunk's first
 * token replaced by BOS, and only the second half of each chunk is scored (positions ctx/2 .. ctx-2 predict the next
 * token). Logits are consumed a few rows at a time, so any context fits ({@link Model.RawSequence#evaluateEach}).
 * <p>{@code --kl-divergence-base FILE} also saves the log-probabilities in llama-perplexity's base-file format;
 * {@code --kl-divergence --kl-divergence-base FILE} evaluates the base file's tokens and compares (kl_divergence).
 */
@Command(name = "perplexity", mixinStandardHelpOptions = true, description = "Perplexity of a model on a text file, "
        + "or its KL divergence from a base model's saved log-probabilities (as llama-perplexity).")
final class PerplexityCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "a .gguf file or an Ollama model (name:tag)") String model;
    @Option(names = {"-f", "--file"}, paramLabel = "F", description = "the text (not needed with --kl-divergence)") Path file;
    @Option(names = {"-c", "--ctx-size"}, defaultValue = "512") int ctx;
    @Option(names = "--chunks", defaultValue = "-1", description = "most chunks to score (-1: all)") int maxChunks;
    @Option(names = "--kl-divergence-base", paramLabel = "FILE",
            description = "where to save the log-probabilities (or, with --kl-divergence, where to read them)") Path kldBase;
    @Option(names = "--kl-divergence", description = "compare with the log-probabilities in --kl-divergence-base") boolean kld;
    @Mixin CommonOptions common;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (kld) {
            if (kldBase == null) throw new IllegalArgumentException("--kl-divergence needs --kl-divergence-base FILE (made by a run without --kl-divergence)");
            try (LogProbs.Reader base = new LogProbs.Reader(kldBase, Files.size(kldBase));
                 Model m = Cli.open(Cli.resolveModel(model), common.modelOptions(base.nCtx), spec.commandLine().getErr())) {
                int nChunk = maxChunks >= 0 ? Math.min(maxChunks, base.nChunk) : base.nChunk;
                KlDivergence k = klDivergence(m, base, nChunk, (c, kk) -> {
                    KlDivergence.Summary s = kk.summary();
                    out.printf(Locale.ROOT, "%4d    %9.4f ± %9.4f    %10.5f ± %10.5f    %10.5f ± %10.5f    %6.3f ± %6.3f %%%n", c + 1,
                            s.ppl().value(), s.ppl().uncertainty(), s.lnPplRatio().value(), s.lnPplRatio().uncertainty(),
                            s.kld().value(), s.kld().uncertainty(), 100 * s.sameTop().value(), 100 * s.sameTop().uncertainty());
                    out.flush();
                });
                printSummary(out, k.summary());
            }
            return 0;
        }
        if (file == null) throw new IllegalArgumentException("--file F is required (the text to score)");
        if (ctx < 4) throw new IllegalArgumentException("--ctx-size must be at least 4, got " + ctx);
        String text = Files.readString(file);
        try (Model m = Cli.open(Cli.resolveModel(model), common.modelOptions(ctx), spec.commandLine().getErr())) {
            int[] tokens = m.tokenize(text, true, false);
            if (tokens.length < 2L * ctx) {
                throw new IllegalArgumentException("the text has " + tokens.length + " tokens; perplexity with a context of " + ctx
                        + " needs at least " + 2L * ctx);
            }
            int nChunk = tokens.length / ctx;
            if (maxChunks >= 0) nChunk = Math.min(nChunk, maxChunks);
            Scores sc;
            LogProbs.Writer w = kldBase == null ? null : new LogProbs.Writer(kldBase, ctx, m.vocabSize(), nChunk, tokens);
            try {
                sc = perplexity(m, tokens, ctx, nChunk, w, (c, s) -> {
                    out.printf(Locale.ROOT, "[%d]%.4f,", c + 1, Math.exp(s.nll / s.count));
                    out.flush();
                });
            } finally {
                if (w != null) w.close();
            }
            out.println();
            out.printf(Locale.ROOT, "Final estimate: PPL = %.4f +/- %.5f (%d chunks of %d tokens, %d scored)%n", sc.ppl(),
                    sc.uncertainty(), nChunk, ctx, sc.count);
            if (kldBase != null) out.println("log-probabilities saved to " + kldBase);
        }
        return 0;
    }

    /** Sums of the negative log-likelihoods of the scored tokens. */
    static final class Scores {
        double nll, nll2;
        long count;

        double ppl() {
            return Math.exp(nll / count);
        }

        /** llama-perplexity's "+/-": ppl * sqrt(var / (count - 1)). */
        double uncertainty() {
            double mean = nll / count, var = nll2 / count - mean * mean;
            return count > 1 && var > 0 ? ppl() * Math.sqrt(var / (count - 1)) : 0;
        }
    }

    /** Called after each chunk with the running state. */
    @FunctionalInterface
    interface ChunkListener<T> {
        void chunk(int index, T state);
    }

    /** The chunk {@code c} as evaluated: ctx tokens, the first replaced by BOS when the model has one. */
    private static int[] chunk(Model m, int[] tokens, int ctx, int c) {
        int[] chunk = Arrays.copyOfRange(tokens, c * ctx, (c + 1) * ctx);
        if (m.bosToken() >= 0) chunk[0] = m.bosToken();
        return chunk;
    }

    /** perplexity(): scores positions ctx/2 .. ctx-2 of each chunk; writes base rows to {@code base} if given. */
    static Scores perplexity(Model m, int[] tokens, int ctx, int nChunk, LogProbs.Writer base, ChunkListener<Scores> l) {
        int nv = m.vocabSize(), first = ctx / 2;
        Scores s = new Scores();
        try (Model.RawSequence seq = m.newRawSequence()) {
        for (int c = 0; c < nChunk; c++) {
            int[] chunk = chunk(m, tokens, ctx, c);
            int[] orig = Arrays.copyOfRange(tokens, c * ctx, (c + 1) * ctx);
            seq.reset();
            seq.evaluateEach(chunk, (pos0, rows, logits) -> {
                for (int r = 0; r < rows; r++) {
                    int pos = pos0 + r;
                    if (pos < first || pos >= ctx - 1) continue;
                    double v;
                    try {
                        v = base != null ? base.add(logits, r * nv, orig[pos + 1]) : -logSoftmax(logits, r * nv, nv, orig[pos + 1]);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    s.nll += v;
                    s.nll2 += v * v;
                    s.count++;
                }
            });
            l.chunk(c, s);
        }
        }
        return s;
    }

    /** kl_divergence(): evaluates the base file's chunks and compares each scored position with the base's row. */
    static KlDivergence klDivergence(Model m, LogProbs.Reader base, int nChunk, ChunkListener<KlDivergence> l) {
        int nv = m.vocabSize(), ctx = base.nCtx, first = ctx / 2;
        if (base.nVocab != nv) {
            throw new IllegalArgumentException("the base log-probabilities have a vocabulary of " + base.nVocab + " tokens, the model "
                    + nv + ": they come from a different model family");
        }
        KlDivergence k = new KlDivergence();
        try (Model.RawSequence seq = m.newRawSequence()) {
        for (int c = 0; c < nChunk; c++) {
            int[] chunk = chunk(m, base.tokens, ctx, c);
            int[] orig = Arrays.copyOfRange(base.tokens, c * ctx, (c + 1) * ctx);
            seq.reset();
            seq.evaluateEach(chunk, (pos0, rows, logits) -> {
                for (int r = 0; r < rows; r++) {
                    int pos = pos0 + r;
                    if (pos < first || pos >= ctx - 1) continue;
                    try {
                        base.next();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    k.add(logits, r * nv, nv, base, orig[pos + 1]);
                }
            });
            l.chunk(c, k);
        }
        }
        return k;
    }

    static void printSummary(PrintWriter out, KlDivergence.Summary s) {
        out.println();
        out.println("====== Perplexity statistics ======");
        out.printf(Locale.ROOT, "Mean PPL(Q)                   : %10.6f ± %10.6f%n", s.ppl().value(), s.ppl().uncertainty());
        out.printf(Locale.ROOT, "Mean PPL(base)                : %10.6f ± %10.6f%n", s.pplBase().value(), s.pplBase().uncertainty());
        out.printf(Locale.ROOT, "Mean ln(PPL(Q)/PPL(base))     : %10.6f ± %10.6f%n", s.lnPplRatio().value(), s.lnPplRatio().uncertainty());
        out.printf(Locale.ROOT, "Mean PPL(Q)-PPL(base)         : %10.6f ± %10.6f%n", s.pplDiff().value(), s.pplDiff().uncertainty());
        out.println();
        out.println("====== KL divergence statistics ======");
        out.printf(Locale.ROOT, "Mean    KLD: %10.6f ± %10.6f%n", s.kld().value(), s.kld().uncertainty());
        out.printf(Locale.ROOT, "Maximum KLD: %10.6f%n", s.kldMax());
        out.printf(Locale.ROOT, "99.0%%   KLD: %10.6f%n", s.kld99());
        out.printf(Locale.ROOT, "Median  KLD: %10.6f%n", s.kldMedian());
        out.println();
        out.println("====== Token probability statistics ======");
        out.printf(Locale.ROOT, "RMS Δp    : %6.3f ± %5.3f %%%n", 100 * s.pDiffRms().value(), 100 * s.pDiffRms().uncertainty());
        out.printf(Locale.ROOT, "Same top p: %6.3f ± %5.3f %%%n", 100 * s.sameTop().value(), 100 * s.sameTop().uncertainty());
        out.printf(Locale.ROOT, "(%d tokens scored)%n", s.count());
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
