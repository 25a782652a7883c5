package org.jgemma.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.jgemma.api.Model;
import org.jgemma.api.ModelOptions;
import org.jgemma.backend.BackendProvider;
import org.jgemma.backend.Backends;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.model.Gemma3Model;
import org.jgemma.quantize.QuantFormat;
import org.jgemma.quantize.Quantizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jgemma compare MODEL...}: quantizations of one model side by side. Per file: size, bits per weight, memory
 * at a context (weights + KV cache, Gemma3Model.estimate: what the loader asks the backend for), mean KL divergence
 * and Δ perplexity against the highest-precision file (llama-perplexity's statistics, {@link KlDivergence}), and
 * prompt / generation tokens per second on each backend. Writes compare.md, compare.json and compare.png (speed vs
 * KLD) into {@code --out}; the Markdown table also goes to stdout, progress to stderr.
 * <p>With one MODEL and {@code --types}, the other files are made on the fly with {@link Quantizer}.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Size, memory, quality (KLD, Δppl) and speed of several quantizations of one model, as a table and a chart.")
final class CompareCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "MODEL", description = ".gguf files of one model in several types") List<Path> models;
    @Option(names = "--types", split = ",", paramLabel = "T", description = "with one MODEL (F32/F16/BF16): types to make from it, e.g. Q8_0,Q4_K_M") List<String> types;
    @Option(names = {"-f", "--file"}, required = true, paramLabel = "F", description = "text for perplexity and KL divergence") Path text;
    @Option(names = {"-c", "--ctx-size"}, defaultValue = "256", description = "perplexity chunk size (default: ${DEFAULT-VALUE})") int ctx;
    @Option(names = "--chunks", defaultValue = "4", description = "chunks scored (-1: all; default: ${DEFAULT-VALUE})") int chunks;
    @Option(names = "--mem-ctx", defaultValue = "4096", description = "context for the memory column (default: ${DEFAULT-VALUE})") int memCtx;
    @Option(names = "--backends", split = ",", description = "backends to time (default: every available one except reference)") List<String> backends;
    @Option(names = "--quality-backend", defaultValue = "auto", description = "backend for perplexity and KLD (default: ${DEFAULT-VALUE})") String qualityBackend;
    @Option(names = {"-p", "--n-prompt"}, defaultValue = "64", description = "prompt tokens timed (default: ${DEFAULT-VALUE})") int nPrompt;
    @Option(names = {"-n", "--n-gen"}, defaultValue = "16", description = "generated tokens timed (default: ${DEFAULT-VALUE})") int nGen;
    @Option(names = {"-r", "--repetitions"}, defaultValue = "2", description = "timed runs after one warm-up (default: ${DEFAULT-VALUE})") int reps;
    @Option(names = {"-t", "--threads"}, defaultValue = "0", description = "CPU threads (0: all cores)") int threads;
    @Option(names = {"-o", "--out"}, defaultValue = "compare", description = "folder for compare.md/.json/.png and made files (default: ${DEFAULT-VALUE})") Path outDir;

    /** Everything measured about one file. */
    static final class Row {
        final Path path;
        String type;
        long fileBytes, weightBytes, elements, memoryBytes;
        double ppl, pplUnc;
        KlDivergence.Summary kld; // null for the base
        final Map<String, double[]> speed = new LinkedHashMap<>(); // backend -> {pp t/s, tg t/s}

        Row(Path path) {
            this.path = path;
        }

        double bpw() {
            return weightBytes * 8.0 / elements;
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        if (ctx < 4 || reps < 1 || nPrompt < 1 || nGen < 1) throw new IllegalArgumentException("--ctx-size ≥ 4, -r, -p and -n ≥ 1");
        Files.createDirectories(outDir);
        List<String> bks = backends != null ? backends : availableBackends();
        List<Path> files = new ArrayList<>(models);
        int nTypes = types == null ? 0 : types.size();
        if (nTypes > 0 && models.size() != 1) throw new IllegalArgumentException("--types takes exactly one MODEL to quantize from");
        Progress progress = new Progress(err, nTypes + (files.size() + nTypes) * (1 + bks.size()));
        for (int i = 0; i < nTypes; i++) {
            QuantFormat f = QuantFormat.parse(types.get(i));
            Path dst = outDir.resolve(stem(models.get(0)) + "-" + f.name().toLowerCase(Locale.ROOT) + ".gguf");
            progress.step("quantizing to " + f);
            Quantizer.quantize(models.get(0), dst, new Quantizer.Options(f, cores(), false, null, null, false), new Quantizer.Listener() {});
            files.add(dst);
        }
        List<Row> rows = new ArrayList<>();
        for (Path p : files) rows.add(describe(p));
        rows.sort(Comparator.comparingDouble(Row::bpw).reversed()); // the base (most bits per weight) first
        Row base = rows.get(0);
        String txt = Files.readString(text);
        Path baseFile = Files.createTempFile(outDir, "kld-base-", ".bin");
        try {
            for (Row r : rows) {
                progress.step("quality of " + r.type);
                quality(r, r == base, txt, baseFile);
                for (String b : bks) {
                    progress.step(r.type + " speed on " + b);
                    r.speed.put(b, speed(r.path, b));
                }
            }
        } finally {
            Files.deleteIfExists(baseFile);
        }
        progress.done();
        String md = markdown(rows, bks);
        out.print(md);
        Files.writeString(outDir.resolve("compare.md"), md);
        Files.writeString(outDir.resolve("compare.json"), json(rows, bks));
        List<CompareChart.Series> series = new ArrayList<>();
        for (String b : bks) {
            List<CompareChart.Point> pts = new ArrayList<>();
            for (Row r : rows) pts.add(new CompareChart.Point(r.type, r.kld == null ? 0 : r.kld.kld().value(), r.speed.get(b)[1], r.fileBytes));
            series.add(new CompareChart.Series(b, pts));
        }
        CompareChart.write(outDir.resolve("compare.png"), stem(base.path) + ": generation speed vs KL divergence",
                "generation tokens/s (tg" + nGen + ")", series, 800, 500);
        err.println("wrote " + outDir.resolve("compare.md") + ", compare.json, compare.png");
        return 0;
    }

    private int cores() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    static List<String> availableBackends() {
        List<String> l = new ArrayList<>();
        for (BackendProvider p : Backends.providers()) {
            if (!p.name().equals("reference") && p.probe().available()) l.add(p.name());
        }
        return l;
    }

    static String stem(Path p) {
        String n = p.getFileName().toString();
        return n.endsWith(".gguf") ? n.substring(0, n.length() - 5) : n;
    }

    /** Size, type, bits per weight, memory estimate. */
    private Row describe(Path p) throws IOException {
        Row r = new Row(p);
        r.fileBytes = Files.size(p);
        try (GgufFile f = GgufFile.open(p)) {
            QuantFormat fmt = QuantFormat.byFtype(f.find("general.file_type").map(v -> ((Number) v.value()).longValue()).orElse(-1L));
            r.type = fmt != null ? fmt.name() : stem(p);
            for (GgufTensorInfo t : f.tensors()) {
                r.weightBytes += t.byteSize();
                r.elements += t.elementCount();
            }
            int c = Math.min(memCtx, org.jgemma.model.Gemma3Config.from(f).contextLength());
            Gemma3Model.MemoryEstimate m = Gemma3Model.estimate(f, Gemma3Model.Options.of(c));
            r.memoryBytes = m.weightBytes() + 4 * m.kvElements() + m.scratchBytes();
        }
        return r;
    }

    /** Perplexity of the base (saving its log-probabilities), or KLD of another file against them. */
    private void quality(Row r, boolean isBase, String txt, Path baseFile) throws IOException {
        ModelOptions o = ModelOptions.defaults().withBackend(qualityBackend).withThreads(threads).withContextSize(ctx);
        try (Model m = Model.open(r.path, o)) {
            if (isBase) {
                int[] tokens = m.tokenize(txt, true, false);
                if (tokens.length < 2L * ctx) {
                    throw new IllegalArgumentException(text + " has " + tokens.length + " tokens; a context of " + ctx + " needs at least " + 2L * ctx);
                }
                int n = tokens.length / ctx;
                if (chunks >= 0) n = Math.min(n, chunks);
                PerplexityCommand.Scores s;
                try (LogProbs.Writer w = new LogProbs.Writer(baseFile, ctx, m.vocabSize(), n, tokens)) {
                    s = PerplexityCommand.perplexity(m, tokens, ctx, n, w, (c, st) -> {});
                }
                r.ppl = s.ppl();
                r.pplUnc = s.uncertainty();
            } else {
                try (LogProbs.Reader b = new LogProbs.Reader(baseFile, Files.size(baseFile))) {
                    r.kld = PerplexityCommand.klDivergence(m, b, b.nChunk, (c, k) -> {}).summary();
                }
                r.ppl = r.kld.ppl().value();
                r.pplUnc = r.kld.ppl().uncertainty();
            }
        }
    }

    /** {pp t/s, tg t/s}: the mean of {@code reps} runs after one warm-up, on random tokens (as jgemma bench). */
    private double[] speed(Path p, String backend) throws IOException {
        ModelOptions o = ModelOptions.defaults().withBackend(backend).withThreads(threads).withContextSize(Math.max(nPrompt, nGen));
        try (Model m = Model.open(p, o); Model.RawSequence seq = m.newRawSequence()) {
            SplittableRandom rnd = new SplittableRandom(42);
            float[] logits = new float[m.vocabSize()];
            double pp = 0, tg = 0;
            for (int i = 0; i <= reps; i++) {
                seq.reset();
                int[] ids = rnd.ints(nPrompt, 0, m.vocabSize()).toArray();
                long t0 = System.nanoTime();
                seq.evaluate(ids, logits);
                double ppi = nPrompt * 1e9 / (System.nanoTime() - t0);
                seq.reset();
                int[] one = new int[1];
                t0 = System.nanoTime();
                for (int k = 0; k < nGen; k++) {
                    one[0] = rnd.nextInt(m.vocabSize());
                    seq.evaluate(one, logits);
                }
                double tgi = nGen * 1e9 / (System.nanoTime() - t0);
                if (i > 0) {
                    pp += ppi / reps;
                    tg += tgi / reps;
                }
            }
            return new double[] {pp, tg};
        }
    }

    private String markdown(List<Row> rows, List<String> bks) {
        StringBuilder sb = new StringBuilder();
        Row base = rows.get(0);
        sb.append(String.format(Locale.ROOT, "Base: %s (%s). Perplexity and KLD over %s, ctx %d; memory at a context of %d "
                + "(weights + F32 KV cache + activations); speed: pp%d / tg%d tokens/s.%n%n", base.path.getFileName(), base.type,
                text.getFileName(), ctx, memCtx, nPrompt, nGen));
        sb.append("| type | file MiB | bits/weight | memory MiB | PPL | Δppl | mean KLD | KLD 99% | same top |");
        for (String b : bks) sb.append(" pp ").append(b).append(" | tg ").append(b).append(" |");
        sb.append("\n|---|--:|--:|--:|--:|--:|--:|--:|--:|");
        for (int i = 0; i < bks.size(); i++) sb.append("--:|--:|");
        sb.append('\n');
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.1f | %.4f ± %.4f | ", r.type, r.fileBytes / 1048576.0,
                    r.bpw(), r.memoryBytes / 1048576.0, r.ppl, r.pplUnc));
            if (r.kld == null) {
                sb.append("base | 0 | 0 | 100% |");
            } else {
                sb.append(String.format(Locale.ROOT, "%+.4f ± %.4f | %.6f ± %.6f | %.6f | %.2f%% |", r.kld.pplDiff().value(),
                        r.kld.pplDiff().uncertainty(), r.kld.kld().value(), r.kld.kld().uncertainty(), r.kld.kld99(),
                        100 * r.kld.sameTop().value()));
            }
            for (String b : bks) {
                double[] s = r.speed.get(b);
                sb.append(String.format(Locale.ROOT, " %.1f | %.1f |", s[0], s[1]));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private String json(List<Row> rows, List<String> bks) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("base", rows.get(0).path.toString());
        root.put("text", text.toString());
        root.put("ctx", ctx);
        root.put("memory_context", memCtx);
        root.put("n_prompt", nPrompt);
        root.put("n_gen", nGen);
        ArrayNode a = root.putArray("files");
        for (Row r : rows) {
            ObjectNode n = a.addObject();
            n.put("file", r.path.toString());
            n.put("type", r.type);
            n.put("file_bytes", r.fileBytes);
            n.put("bits_per_weight", r.bpw());
            n.put("memory_bytes", r.memoryBytes);
            n.put("ppl", r.ppl);
            n.put("ppl_uncertainty", r.pplUnc);
            if (r.kld != null) {
                n.put("delta_ppl", r.kld.pplDiff().value());
                n.put("delta_ppl_uncertainty", r.kld.pplDiff().uncertainty());
                n.put("kld_mean", r.kld.kld().value());
                n.put("kld_uncertainty", r.kld.kld().uncertainty());
                n.put("kld_99", r.kld.kld99());
                n.put("kld_max", r.kld.kldMax());
                n.put("same_top", r.kld.sameTop().value());
                n.put("tokens_scored", r.kld.count());
            }
            ObjectNode sp = n.putObject("tokens_per_second");
            for (String b : bks) {
                ObjectNode bn = sp.putObject(b);
                bn.put("pp", r.speed.get(b)[0]);
                bn.put("tg", r.speed.get(b)[1]);
            }
        }
        return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
    }

    /** A progress bar over the whole run on a terminal; one line per step otherwise. */
    private static final class Progress {
        private final PrintWriter err;
        private final int total;
        private final boolean bar = Cli.onTerminal();
        private int done;

        Progress(PrintWriter err, int total) {
            this.err = err;
            this.total = total;
        }

        void step(String what) {
            if (bar) {
                int filled = done * 30 / total;
                err.print("\r[" + "#".repeat(filled) + " ".repeat(30 - filled) + "] " + done + "/" + total + " " + what + "\033[K");
            } else {
                err.println("[" + (done + 1) + "/" + total + "] " + what);
            }
            err.flush();
            done++;
        }

        void done() {
            if (bar) err.println("\r[" + "#".repeat(30) + "] " + total + "/" + total + " done\033[K");
            err.flush();
        }
    }
}
