package org.jgemma.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How {@code jgemma serve} runs. Immutable; start from {@link #defaults()}.
 *
 * @param host           address to listen on; loopback ({@code 127.0.0.1}) unless asked otherwise
 * @param port           TCP port (Ollama's 11434 by default; 0 picks a free one)
 * @param parallel       requests per model generating at once (each holds one KV cache)
 * @param queue          requests per model that may wait for a free slot; beyond that: 503
 * @param contextSize    tokens per request's context (the KV cache of each slot); 0: the model's, at most 4096
 * @param backend        engine backend ({@code auto}, {@code cpu}, {@code cuda}, {@code opencl}, {@code reference})
 * @param threads        CPU backend threads (0: all cores)
 * @param keepAlive      how long a model stays loaded after its last request (Ollama's default 5m); negative: forever
 * @param modelDirs      folders whose {@code *.gguf} files are served by file name
 * @param ollamaRoots    Ollama stores ({@code $OLLAMA_MODELS}, {@code ~/.ollama/models}) whose models are served by name
 * @param apiKey         when set, every request but {@code GET /} and the static {@code /ui} page needs
 *                       {@code Authorization: Bearer <apiKey>}
 * @param maxBodyBytes   largest request body accepted (413 above it)
 * @param maxLoaded      most models loaded at once (Ollama's OLLAMA_MAX_LOADED_MODELS)
 * @param maxMemoryBytes memory the loaded models may take together (weights + KV caches, estimated); 0: 80% of RAM
 * @param cachePrompt    reuse a slot's KV cache for the longest common prefix of a chat (llama-server's
 *                       {@code cache_prompt}); a request may turn it off with {@code "cache_prompt": false}. Greedy text
 *                       is then that of a cold evaluation ({@code jgemma run}) only up to floating-point ties: the
 *                       new part is evaluated in a different batch split, as llama.cpp documents for its server
 */
public record ServerConfig(String host, int port, int parallel, int queue, int contextSize, String backend, int threads,
                           Duration keepAlive, List<Path> modelDirs, List<Path> ollamaRoots, String apiKey,
                           long maxBodyBytes, int maxLoaded, long maxMemoryBytes, boolean cachePrompt) {

    public static final int DEFAULT_PORT = 11434;

    public ServerConfig {
        if (host == null || host.isBlank()) host = "127.0.0.1";
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        if (parallel < 1 || parallel > 256) throw new IllegalArgumentException("parallel must be in [1, 256], got " + parallel);
        if (queue < 0 || queue > 100_000) throw new IllegalArgumentException("queue must be in [0, 100000], got " + queue);
        if (contextSize < 0) throw new IllegalArgumentException("context size must be ≥ 0, got " + contextSize);
        if (keepAlive == null) keepAlive = Duration.ofMinutes(5);
        modelDirs = List.copyOf(modelDirs);
        ollamaRoots = List.copyOf(ollamaRoots);
        if (apiKey != null && apiKey.isBlank()) apiKey = null;
        if (maxBodyBytes < 1024) throw new IllegalArgumentException("max body size must be ≥ 1024 bytes, got " + maxBodyBytes);
        if (maxLoaded < 1) throw new IllegalArgumentException("max loaded models must be ≥ 1, got " + maxLoaded);
        if (maxMemoryBytes < 0) throw new IllegalArgumentException("max memory must be ≥ 0, got " + maxMemoryBytes);
    }

    /** Loopback, port 11434, 4 parallel requests per model, 64 queued, 5 minute keep-alive, no models folder. */
    public static ServerConfig defaults() {
        return new ServerConfig("127.0.0.1", DEFAULT_PORT, 4, 64, 0, "auto", 0, Duration.ofMinutes(5), List.of(),
                List.of(), null, 16L << 20, 3, 0, true);
    }

    public ServerConfig withHost(String h) { return new ServerConfig(h, port, parallel, queue, contextSize, backend, threads, keepAlive, modelDirs, ollamaRoots, apiKey, maxBodyBytes, maxLoaded, maxMemoryBytes, cachePrompt); }
    public ServerConfig withPort(int p) { return new ServerConfig(host, p, parallel, queue, contextSize, backend, threads, keepAlive, modelDirs, ollamaRoots, apiKey, maxBodyBytes, maxLoaded, maxMemoryBytes, cachePrompt); }
    public ServerConfig withParallel(int n) { return new ServerConfig(host, port, n, queue, contextSize, backend, threads, keepAlive, modelDirs, ollamaRoots, apiKey, maxBodyBytes, maxLoaded, maxMemoryBytes, cachePrompt); }
    public ServerConfig withQueue(int n) { return new ServerConfig(host, port, parallel, n, contextSize, backend, threads, keepAlive, modelDirs, ollamaRoots, apiKey, maxBodyBytes, maxLoaded, maxMemoryBytes, cachePrompt); }
    public ServerConfig withContextSize(int n) { return new ServerConfig(host, port, parallel, queue, n, backend, threads, keepAlive, modelDirs, ollamaRoots, apiKey, maxBodyBytes, maxLoaded, maxMemoryBytes, cachePrompt); }
    public ServerConfig withBackend(String b) { return new ServerConfig(host, port, parallel, queue, contextSize, b, threads, keepAlive, modelDirs, ollamaRoots, apiKey, maxBodyBytes, maxLoaded, maxMemoryBytes, cachePrompt); }
    public ServerConfig withThreads(int n) { return new ServerConfig(host, port, parallel, queue, contextSize, backend, n, keepAlive, modelDirs, ollamaRoots, apiKey, maxBodyBytes, maxLoaded, maxMemoryBytes, cachePrompt); }
    public ServerConfig withKeepAlive(Duration d) { return new ServerConfig(host, port, parallel, queue, contextSize, backend, threads, d, modelDirs, ollamaRoots, apiKey, maxBodyBytes, maxLoaded, maxMemoryBytes, cachePrompt); }
    public ServerConfig withModelDirs(List<Path> dirs) { return new ServerConfig(host, port, parallel, queue, contextSize, backend, threads, keepAlive, dirs, ollamaRoots, apiKey, maxBodyBytes, maxLoaded, maxMemoryBytes, cachePrompt); }
    public ServerConfig withOllamaRoots(List<Path> roots) { return new ServerConfig(host, port, parallel, queue, contextSize, backend, threads, keepAlive, modelDirs, roots, apiKey, maxBodyBytes, maxLoaded, maxMemoryBytes, cachePrompt); }
    public ServerConfig withApiKey(String k) { return new ServerConfig(host, port, parallel, queue, contextSize, backend, threads, keepAlive, modelDirs, ollamaRoots, k, maxBodyBytes, maxLoaded, maxMemoryBytes, cachePrompt); }
    public ServerConfig withMaxBodyBytes(long n) { return new ServerConfig(host, port, parallel, queue, contextSize, backend, threads, keepAlive, modelDirs, ollamaRoots, apiKey, n, maxLoaded, maxMemoryBytes, cachePrompt); }
    public ServerConfig withMaxLoaded(int n) { return new ServerConfig(host, port, parallel, queue, contextSize, backend, threads, keepAlive, modelDirs, ollamaRoots, apiKey, maxBodyBytes, n, maxMemoryBytes, cachePrompt); }
    public ServerConfig withMaxMemoryBytes(long n) { return new ServerConfig(host, port, parallel, queue, contextSize, backend, threads, keepAlive, modelDirs, ollamaRoots, apiKey, maxBodyBytes, maxLoaded, n, cachePrompt); }

    public ServerConfig withCachePrompt(boolean b) { return new ServerConfig(host, port, parallel, queue, contextSize, backend, threads, keepAlive, modelDirs, ollamaRoots, apiKey, maxBodyBytes, maxLoaded, maxMemoryBytes, b); }

    /** Whether the server listens on a loopback address only. */
    public boolean loopbackOnly() {
        return host.equals("127.0.0.1") || host.equals("localhost") || host.equals("::1") || host.startsWith("127.");
    }
}
