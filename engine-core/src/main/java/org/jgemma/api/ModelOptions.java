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
 * @param mmap        map the file (default: fast, shared with the page cache; a file truncated or rewritten while the
 *                    model is open can then crash the JVM, and requests are refused once its size or time changes), or
 *                    read the weights into memory once (llama.cpp's {@code --no-mmap}: safe against such changes)
 */
public record ModelOptions(String backend, int contextSize, int threads, LoadProgress progress, int batchSize, int maxParallel,
                           boolean mmap) {

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
        this(backend, contextSize, threads, progress, 0, 0, true);
    }

    public ModelOptions(String backend, int contextSize, int threads, LoadProgress progress, int batchSize, int maxParallel) {
        this(backend, contextSize, threads, progress, batchSize, maxParallel, true);
    }

    public static ModelOptions defaults() {
        return new ModelOptions("auto", 0, 0, null, 0, 0);
    }

    public ModelOptions withBackend(String b) { return new ModelOptions(b, contextSize, threads, progress, batchSize, maxParallel, mmap); }
    public ModelOptions withContextSize(int n) { return new ModelOptions(backend, n, threads, progress, batchSize, maxParallel, mmap); }
    public ModelOptions withThreads(int n) { return new ModelOptions(backend, contextSize, n, progress, batchSize, maxParallel, mmap); }
    public ModelOptions withProgress(LoadProgress p) { return new ModelOptions(backend, contextSize, threads, p, batchSize, maxParallel, mmap); }
    public ModelOptions withBatchSize(int n) { return new ModelOptions(backend, contextSize, threads, progress, n, maxParallel, mmap); }
    public ModelOptions withMaxParallel(int n) { return new ModelOptions(backend, contextSize, threads, progress, batchSize, n, mmap); }

    /** As these options, the file mapped ({@code true}, the default) or read into memory ({@code false}). */
    public ModelOptions withMmap(boolean m) { return new ModelOptions(backend, contextSize, threads, progress, batchSize, maxParallel, m); }

    /** The maxParallel in effect (the default resolved). */
    public int effectiveMaxParallel() {
        return maxParallel > 0 ? maxParallel : 4;
    }
}
