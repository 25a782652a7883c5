package org.jgemma.cli;

import org.jgemma.api.ModelOptions;
import picocli.CommandLine.Option;

/** Options shared by the commands that load a model. */
public final class CommonOptions {
    /** More threads than this many times the cores only adds contention (and 1000 threads took minutes to start). */
    static final int MAX_THREADS_PER_CORE = 2;

    @Option(names = "--backend", defaultValue = "auto", paramLabel = "B",
            description = "auto, cpu, cuda, opencl or reference (default: ${DEFAULT-VALUE}: the best available, see `jgemma devices`)")
    String backend;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "CPU threads (default: all cores; at most twice the cores)")
    Integer threads;

    @Option(names = "--no-mmap", description = "read the weights into memory instead of mapping the file (safe when the"
            + " file may be changed or truncated while the model runs; uses that much more memory)")
    boolean noMmap;

    /** The thread count asked for, checked: null when not given. */
    Integer threads() {
        if (threads == null) return null;
        int cores = Runtime.getRuntime().availableProcessors();
        if (threads < 1 || threads > MAX_THREADS_PER_CORE * cores) {
            throw new IllegalArgumentException("--threads must be between 1 and " + MAX_THREADS_PER_CORE * cores
                    + " (twice the " + cores + " cores here), got " + threads);
        }
        return threads;
    }

    /** The threads the CPU backend will use (what {@code bench --json} reports). */
    int effectiveThreads() {
        Integer t = threads();
        return t != null ? t : Runtime.getRuntime().availableProcessors();
    }

    ModelOptions modelOptions(int contextSize) {
        if (contextSize < 0) throw new IllegalArgumentException("--ctx-size must be ≥ 0 (0: the model's, at most 4096), got " + contextSize);
        Integer t = threads();
        return ModelOptions.defaults().withBackend(backend).withThreads(t == null ? 0 : t).withContextSize(contextSize)
                .withMmap(!noMmap);
    }
}
