package org.jgemma.api;

/**
 * How to open a model.
 *
 * @param backend     {@code auto} (the best available: cuda, opencl, cpu), {@code cpu}, {@code cuda}, {@code opencl} or
 *                    {@code reference} (the slow scalar oracle)
 * @param contextSize tokens one session can hold; ≤ 0: the model's training context, at most 4096
 * @param threads     CPU threads; ≤ 0: all cores
 * @param progress    told how far loading is (the weights are read once while it runs), or null
 * @param batchSize   most prompt tokens evaluated in one step (llama.cpp's {@code -b}); a prompt is evaluated in chunks
 *                    of this size, and a cancel or another session's decode step can come between two chunks;
 *                    ≤ 0: 512 (at most the context size)
 * @param maxParallel most sessions whose decode steps run as one batched step (1 .. 8); ≤ 0: 4
 */
public record ModelOptions(String backend, int contextSize, int threads, LoadProgress progress, int batchSize, int maxParallel) {

    /** Loading progress: {@code done} of {@code total} bytes of weights read. Called from the loading thread. */
    @FunctionalInterface
    public interface LoadProgress {
        void update(long done, long total);
    }

    /** Contexts default to at most this many tokens (a Gemma 3 model's 128k would need GBs of KV cache). */
    public static final int DEFAULT_MAX_CONTEXT = 4096;

    public ModelOptions {
        if (backend == null || backend.isBlank()) backend = "auto";
        if (maxParallel > org.jgemma.model.Gemma3Model.MAX_PARALLEL) {
            throw new IllegalArgumentException("maxParallel " + maxParallel + " is above " + org.jgemma.model.Gemma3Model.MAX_PARALLEL);
        }
    }

    public ModelOptions(String backend, int contextSize, int threads, LoadProgress progress) {
        this(backend, contextSize, threads, progress, 0, 0);
    }

    public static ModelOptions defaults() {
        return new ModelOptions("auto", 0, 0, null, 0, 0);
    }

    public ModelOptions withBackend(String b) { return new ModelOptions(b, contextSize, threads, progress, batchSize, maxParallel); }
    public ModelOptions withContextSize(int n) { return new ModelOptions(backend, n, threads, progress, batchSize, maxParallel); }
    public ModelOptions withThreads(int n) { return new ModelOptions(backend, contextSize, n, progress, batchSize, maxParallel); }
    public ModelOptions withProgress(LoadProgress p) { return new ModelOptions(backend, contextSize, threads, p, batchSize, maxParallel); }
    public ModelOptions withBatchSize(int n) { return new ModelOptions(backend, contextSize, threads, progress, n, maxParallel); }
    public ModelOptions withMaxParallel(int n) { return new ModelOptions(backend, contextSize, threads, progress, batchSize, n); }

    /** The maxParallel in effect (the default resolved). */
    public int effectiveMaxParallel() {
        return maxParallel > 0 ? maxParallel : 4;
    }
}
