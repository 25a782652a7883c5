package org.jgemma.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jgemma.api.Generation;
import org.jgemma.api.GenerationOptions;
import org.jgemma.api.Model;
import org.jgemma.api.ModelOptions;
import org.jgemma.api.Session;
import org.jgemma.cuda.CudaBackend;
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
 *
 * <p>{@code --parallel N}: the tg test runs N sessions on N threads at once, each generating N tokens greedily after
 * a short prompt, and reports the aggregate generation rate (all sessions' tokens over the wall time from the common
 * start to the last one's end): the model's scheduler batches their decode steps (llama-bench's {@code -pl} /
 * llama-batched-bench's measure). N = 1 runs the same code with one session, so the two are comparable.
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
    @Option(names = "--parallel", defaultValue = "0", paramLabel = "N",
            description = "tg with N concurrent sessions (1 .. 8): aggregate tokens/s of batched decoding") int parallel;
    @Mixin CommonOptions common;

    @Override
    public Integer call() throws Exception {
        if (nPrompt < 0 || nGen < 0 || reps < 1 || warmup < 0) {
            throw new IllegalArgumentException("-p, -n and --warmup must be ≥ 0 and -r ≥ 1");
        }
        if (parallel < 0 || parallel > 8) throw new IllegalArgumentException("--parallel must be in 1 .. 8");
        Path path = Cli.resolveModel(model);
        PrintWriter out = spec.commandLine().getOut();
        ModelOptions options = common.modelOptions(Math.max(1, Math.max(nPrompt, nGen + PARALLEL_PROMPT)));
        if (parallel > 0) options = options.withMaxParallel(parallel);
        try (Model m = Cli.open(path, options, spec.commandLine().getErr())) {
            SplittableRandom rnd = new SplittableRandom(42);
            Model.RawSequence seq = m.newRawSequence();
            float[] logits = new float[m.vocabSize()];
            boolean onCuda = m.backendName().equals("cuda");
            // CUDA, the last pp run: kernel launches, weight bytes read, what the 8-column mat-vec alone would read,
            // and the weight bytes of the matmuls called (each once)
            long[] prefill = new long[4];
            double[] pp = nPrompt > 0 ? measure(() -> {
                seq.reset();
                int[] ids = rnd.ints(nPrompt, 0, m.vocabSize()).toArray();
                long l0 = onCuda ? CudaBackend.totalKernelLaunches() : 0;
                long[] w0 = onCuda ? CudaBackend.totalWeightBytesRead() : null;
                long t0 = System.nanoTime();
                seq.evaluate(ids, logits);
                double tps = nPrompt * 1e9 / (System.nanoTime() - t0);
                if (onCuda) {
                    long[] w1 = CudaBackend.totalWeightBytesRead();
                    prefill[0] = CudaBackend.totalKernelLaunches() - l0;
                    for (int i = 0; i < 3; i++) prefill[i + 1] = w1[i] - w0[i];
                }
                return tps;
            }) : null;
            boolean cuda = onCuda && parallel <= 0;  // per token of one sequence
            long[] launches = new long[1];  // kernel launches of the last tg run (CUDA: counted by its driver)
            long[] st0 = m.stepStatistics();
            double[] tg = nGen > 0 && parallel > 0 ? measure(() -> parallelTg(m, rnd.nextLong())) : nGen > 0 ? measure(() -> {
                seq.reset();
                int[] one = new int[1];
                long l0 = cuda ? CudaBackend.totalKernelLaunches() : 0;
                long t0 = System.nanoTime();
                for (int i = 0; i < nGen; i++) {
                    one[0] = rnd.nextInt(m.vocabSize());
                    seq.evaluate(one, logits);
                }
                double tps = nGen * 1e9 / (System.nanoTime() - t0);
                if (cuda) launches[0] = CudaBackend.totalKernelLaunches() - l0;
                return tps;
            }) : null;
            long[] st1 = m.stepStatistics();
            // the decode steps of the tg runs (warm-ups included): how many sequences a batched step held on average
            double meanBatch = st1[2] > st0[2] ? (double) (st1[1] - st0[1]) / (st1[2] - st0[2]) : 0;
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
                if (parallel > 0) {
                    o.put("parallel", parallel);
                    o.put("mean_decode_batch", meanBatch);
                }
                if (onCuda && pp != null && prefill[3] > 0) {
                    // the prompt's matmuls: each weight byte read prefill_weight_reads times (tiles of 64 tokens
                    // past 8 columns) against prefill_weight_reads_matvec times through 8-column mat-vec launches
                    o.put("prefill_launches", prefill[0]);
                    o.put("prefill_weight_bytes_read", prefill[1]);
                    o.put("prefill_weight_reads", (double) prefill[1] / prefill[3]);
                    o.put("prefill_weight_reads_matvec", (double) prefill[2] / prefill[3]);
                }
                if (cuda && tg != null) {
                    // one decode token = one replay of the recorded step (a CUDA graph); this many kernels in it
                    o.put("launches_per_token", (double) launches[0] / nGen);
                    o.put("cuda_driver", CudaBackend.configuredDriver());
                    o.put("decode_step", "recorded once, replayed as one graph launch per token");
                    o.set("step_model", stepModel(mapper));
                }
                out.println(mapper.writeValueAsString(o));
            } else {
                out.println("| model | backend | test | t/s |");
                out.println("| --- | --- | --: | --: |");
                if (pp != null) row(out, Cli.label(model, path), m, "pp" + nPrompt, pp);
                if (tg != null) row(out, Cli.label(model, path), m, "tg" + nGen + (parallel > 0 ? " x" + parallel : ""), tg);
                if (tg != null && parallel > 0) {
                    spec.commandLine().getErr().printf(Locale.ROOT, "tg x%d: %.2f sequences per batched decode step on average%n", parallel, meanBatch);
                }
                if (onCuda && pp != null && prefill[3] > 0) {
                    spec.commandLine().getErr().printf(Locale.ROOT, "cuda (%s driver): pp%d in %d kernel launches, each weight"
                                    + " byte read %.1f times (8-column mat-vec alone: %.1f)%n", CudaBackend.configuredDriver(), nPrompt,
                            prefill[0], (double) prefill[1] / prefill[3], (double) prefill[2] / prefill[3]);
                }
                if (cuda && tg != null) {
                    spec.commandLine().getErr().printf(Locale.ROOT, "cuda (%s driver): %.1f kernel launches per generated token%n",
                            CudaBackend.configuredDriver(), (double) launches[0] / nGen);
                }
            }
        }
        return 0;
    }

    /**
     * The recorded decode step as a model: per kernel its launches and the device bytes they read (from the shapes), and
     * the total, so a reader bounds a token by bandwidth (bytes / the device's copy bandwidth) and sees where it goes.
     */
    private static ObjectNode stepModel(ObjectMapper mapper) {
        ObjectNode m = mapper.createObjectNode();
        var kernels = m.putArray("kernels");
        long total = 0;
        int launches = 0;
        for (CudaBackend.KernelCost c : CudaBackend.lastStepModel()) {
            ObjectNode k = kernels.addObject();
            k.put("kernel", c.kernel());
            k.put("launches", c.launches());
            k.put("bytes_read", c.bytesRead());
            total += c.bytesRead();
            launches += c.launches();
        }
        m.put("launches", launches);
        m.put("bytes_read", total);
        m.put("note", "bytes each kernel reads from device memory per decode token, estimated from the shapes (weights,"
                + " activations, q8_1 factors; writes not counted); attention at the full span its layer can see"
                + " (window or context): an upper bound. Bandwidth bound: bytes_read / copy bandwidth.");
        return m;
    }

    private static final int PARALLEL_PROMPT = 8;

    /** {@code parallel} sessions generate nGen tokens each at once: aggregate tokens per second of the generation phase. */
    private double parallelTg(Model m, long seed) {
        GenerationOptions greedy = GenerationOptions.greedy(nGen).withStopOnEog(false);
        SplittableRandom rnd = new SplittableRandom(seed);
        CyclicBarrier ready = new CyclicBarrier(parallel);
        ExecutorService pool = Executors.newFixedThreadPool(parallel);
        try {
            List<Future<long[]>> runs = new ArrayList<>();
            for (int i = 0; i < parallel; i++) {
                int[] prompt = rnd.ints(PARALLEL_PROMPT, 0, m.vocabSize()).toArray();
                runs.add(pool.submit(() -> {
                    try (Session s = m.newSession(); Generation g = s.start(prompt, greedy)) {
                        ready.await(); // every prompt evaluated: the generations start together
                        long t0 = System.nanoTime();
                        while (g.step() != null) {
                            // the text is not needed
                        }
                        return new long[] {t0, System.nanoTime(), g.result().tokens().length};
                    }
                }));
            }
            long start = Long.MAX_VALUE, end = 0, tokens = 0;
            for (Future<long[]> f : runs) {
                long[] r = f.get();
                start = Math.min(start, r[0]);
                end = Math.max(end, r[1]);
                tokens += r[2];
            }
            return tokens * 1e9 / (end - start);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("a parallel session failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
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
