package org.jgemma.api;

/**
 * How to open a model.
 *
 * @param backend     {@code auto} (the best available: cuda, opencl, cpu), {@code cpu}, {@code cuda}, {@code opencl} or
 *                    {@code reference} (the slow scalar oracle)
 * @param contextSize tokens one session can hold; ≤ 0: the model's training context, at most 4096
 * @param threads     CPU threads; ≤ 0: all cores
 * @param progress    told how far loading is (the weights are read once while it runs), or null
 */
public record ModelOptions(String backend, int contextSize, int threads, LoadProgress progress) {

    /** Loading progress: {@code done} of {@code total} bytes of weights read. Called from the loading thread. */
    @FunctionalInterface
    public interface LoadProgress {
        void update(long done, long total);
    }

    /** Contexts default to at most this many tokens (a Gemma 3 model's 128k would need GBs of KV cache). */
    public static final int DEFAULT_MAX_CONTEXT = 4096;

    public ModelOptions {
        if (backend == null || backend.isBlank()) backend = "auto";
    }

    public static ModelOptions defaults() {
        return new ModelOptions("auto", 0, 0, null);
    }

    public ModelOptions withBackend(String b) { return new ModelOptions(b, contextSize, threads, progress); }
    public ModelOptions withContextSize(int n) { return new ModelOptions(backend, n, threads, progress); }
    public ModelOptions withThreads(int n) { return new ModelOptions(backend, contextSize, n, progress); }
    public ModelOptions withProgress(LoadProgress p) { return new ModelOptions(backend, contextSize, threads, p); }
}
