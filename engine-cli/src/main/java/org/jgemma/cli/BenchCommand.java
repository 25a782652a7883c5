package org.jgemma.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.jgemma.api.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jgemma bench MODEL}: prompt processing (pp: P random tokens in one batch) and text generation (tg: N tokens
 * one at a time) in tokens per second, like llama-bench: warm-up runs, then R repetitions on a fresh context, mean
 * and sample standard deviation. Java compiles the hot kernels while they run, so the steady state needs more than
 * llama-bench's single warm-up: {@code --warmup} (default 3) runs of each test are discarded.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure prompt processing and generation speed.")
final class BenchCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "a .gguf file or an Ollama model (name:tag)") String model;

    @Option(names = {"-p", "--n-prompt"}, defaultValue = "512", description = "prompt tokens (0: skip pp)") int nPrompt;
    @Option(names = {"-n", "--n-gen"}, defaultValue = "128", description = "generated tokens (0: skip tg)") int nGen;
    @Option(names = {"-r", "--repetitions"}, defaultValue = "3", description = "measured runs of each test (default: ${DEFAULT-VALUE})") int reps;
    @Option(names = "--warmup", defaultValue = "3", description = "discarded runs of each test before measuring (JIT warm-up)") int warmup;
    @Option(names = "--json", description = "print one JSON object") boolean json;
    @Mixin CommonOptions common;

    @Override
    public Integer call() throws Exception {
        if (nPrompt < 0 || nGen < 0 || reps < 1 || warmup < 0) {
            throw new IllegalArgumentException("-p, -n and --warmup must be ≥ 0 and -r ≥ 1");
        }
        Path path = Cli.resolveModel(model);
        PrintWriter out = spec.commandLine().getOut();
        try (Model m = Cli.open(path, common.modelOptions(Math.max(1, Math.max(nPrompt, nGen))), spec.commandLine().getErr())) {
            SplittableRandom rnd = new SplittableRandom(42);
            Model.RawSequence seq = m.newRawSequence();
            float[] logits = new float[m.vocabSize()];
            double[] pp = nPrompt > 0 ? measure(() -> {
                seq.reset();
                int[] ids = rnd.ints(nPrompt, 0, m.vocabSize()).toArray();
                long t0 = System.nanoTime();
                seq.evaluate(ids, logits);
                return nPrompt * 1e9 / (System.nanoTime() - t0);
            }) : null;
            double[] tg = nGen > 0 ? measure(() -> {
                seq.reset();
                int[] one = new int[1];
                long t0 = System.nanoTime();
                for (int i = 0; i < nGen; i++) {
                    one[0] = rnd.nextInt(m.vocabSize());
                    seq.evaluate(one, logits);
                }
                return nGen * 1e9 / (System.nanoTime() - t0);
            }) : null;
            if (json) {
                ObjectMapper mapper = new ObjectMapper();
                ObjectNode o = mapper.createObjectNode();
                o.put("model", Cli.label(model, path));
                o.put("backend", m.backendName());
                o.put("device", m.deviceName());
                o.put("threads", common.effectiveThreads());
                o.put("repetitions", reps);
                o.put("warmup", warmup);
                if (pp != null) o.set("pp", result(mapper, nPrompt, pp));
                if (tg != null) o.set("tg", result(mapper, nGen, tg));
                out.println(mapper.writeValueAsString(o));
            } else {
                out.println("| model | backend | test | t/s |");
                out.println("| --- | --- | --: | --: |");
                if (pp != null) row(out, Cli.label(model, path), m, "pp" + nPrompt, pp);
                if (tg != null) row(out, Cli.label(model, path), m, "tg" + nGen, tg);
            }
        }
        return 0;
    }

    private interface Run {
        double tokensPerSecond();
    }

    /** {@code warmup} discarded runs, then {@code reps} measured ones: {mean, stddev}. */
    private double[] measure(Run run) {
        for (int i = 0; i < warmup; i++) run.tokensPerSecond();
        double[] v = new double[reps];
        for (int i = 0; i < reps; i++) v[i] = run.tokensPerSecond();
        double mean = 0;
        for (double x : v) mean += x;
        mean /= reps;
        double ss = 0;
        for (double x : v) ss += (x - mean) * (x - mean);
        return new double[] {mean, reps > 1 ? Math.sqrt(ss / (reps - 1)) : 0};
    }

    private static ObjectNode result(ObjectMapper mapper, int tokens, double[] stats) {
        ObjectNode n = mapper.createObjectNode();
        n.put("tokens", tokens);
        ObjectNode tps = n.putObject("tokens_per_second");
        tps.put("mean", stats[0]);
        tps.put("stddev", stats[1]);
        return n;
    }

    private static void row(PrintWriter out, String label, Model m, String test, double[] s) {
        out.printf(Locale.ROOT, "| %s | %s | %s | %.2f ± %.2f |%n", label, m.backendName(), test, s[0], s[1]);
    }
}
