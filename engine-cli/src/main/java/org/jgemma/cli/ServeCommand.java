package org.jgemma.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.jgemma.ollama.OllamaStore;
import org.jgemma.server.JGemmaServer;
import org.jgemma.server.ServerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jgemma serve}: Ollama's and OpenAI's HTTP APIs (see engine-server's {@link JGemmaServer}) until stopped
 * (Ctrl-C / SIGTERM). Prints where it listens and which models it found on stderr.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve models over Ollama's and OpenAI's HTTP APIs (and a chat page at /ui).")
final class ServeCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to listen on (default: ${DEFAULT-VALUE}, loopback only)")
    String host;

    @Option(names = "--port", defaultValue = "11434", description = "port (default: ${DEFAULT-VALUE}, Ollama's; 0: any free port)")
    int port;

    @Option(names = {"-np", "--parallel"}, defaultValue = "4", description = "requests per model generating at once (default: ${DEFAULT-VALUE})")
    int parallel;

    @Option(names = "--queue", defaultValue = "64", description = "requests per model waiting for a slot before 503 (default: ${DEFAULT-VALUE})")
    int queue;

    @Option(names = {"-c", "--ctx-size"}, defaultValue = "0", description = "context per request in tokens (0: the model's, at most 4096)")
    int ctxSize;

    @Option(names = "--backend", defaultValue = "auto", description = "auto, cpu, cuda, opencl or reference (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = {"-t", "--threads"}, defaultValue = "0", description = "CPU threads (0: all cores)")
    int threads;

    @Option(names = "--keep-alive", defaultValue = "5m", description = "how long a model stays loaded after its last request: 30s, 5m, 1h, -1 = forever (default: ${DEFAULT-VALUE})")
    String keepAlive;

    @Option(names = "--models", description = "folder of .gguf files to serve by file name (repeatable; default: none)")
    List<Path> models = new ArrayList<>();

    @Option(names = "--no-ollama-store", description = "do not serve the models of the Ollama store ($OLLAMA_MODELS, ~/.ollama/models)")
    boolean noOllamaStore;

    @Option(names = "--api-key", description = "require Authorization: Bearer KEY on every request but / and /ui (default: env JGEMMA_API_KEY, else none)")
    String apiKey;

    @Option(names = "--no-cache-prompt", description = "evaluate every request's prompt cold instead of reusing a slot's KV cache"
            + " for the longest common prefix of a chat (a request may also send \"cache_prompt\": false)")
    boolean noCachePrompt;

    @Option(names = "--max-loaded", defaultValue = "3", description = "most models loaded at once (default: ${DEFAULT-VALUE})")
    int maxLoaded;

    @Option(names = "--max-memory", defaultValue = "0", description = "memory budget of the loaded models in MiB (0: 80%% of RAM)")
    long maxMemoryMiB;

    @Option(names = "--max-body", defaultValue = "16", description = "largest request body in MiB (default: ${DEFAULT-VALUE})")
    long maxBodyMiB;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        String key = apiKey != null ? apiKey : System.getenv("JGEMMA_API_KEY");
        List<Path> roots = noOllamaStore ? List.of() : OllamaStore.standard().roots();
        ServerConfig cfg = ServerConfig.defaults().withHost(host).withPort(port).withParallel(parallel).withQueue(queue)
                .withContextSize(ctxSize).withBackend(backend).withThreads(threads).withKeepAlive(parseKeepAlive(keepAlive))
                .withModelDirs(models).withOllamaRoots(roots).withApiKey(key).withMaxLoaded(maxLoaded)
                .withMaxMemoryBytes(maxMemoryMiB << 20).withMaxBodyBytes(maxBodyMiB << 20).withCachePrompt(!noCachePrompt);
        try (JGemmaServer server = JGemmaServer.start(cfg)) {
            List<String> names = server.modelNames();
            err.println("jgemma serve: listening on " + server.uri() + (cfg.loopbackOnly() ? " (loopback only)" : "")
                    + (key != null ? ", API key required" : "") + "; chat page at " + server.uri() + "/ui");
            err.println("jgemma serve: " + names.size() + " model(s)" + (names.isEmpty()
                    ? " found; add --models DIR or pull one with Ollama" : ": " + String.join(", ", names)));
            err.flush();
            CountDownLatch stop = new CountDownLatch(1);
            Thread hook = new Thread(stop::countDown, "jgemma-serve-stop");
            Runtime.getRuntime().addShutdownHook(hook);
            stop.await();
            return 0;
        }
    }

    private static Duration parseKeepAlive(String s) {
        String t = s.strip();
        if (t.matches("-\\d+.*")) return Duration.ofSeconds(-1);
        if (t.matches("\\d+")) return Duration.ofSeconds(Long.parseLong(t));
        try {
            return Duration.parse("PT" + t.toUpperCase(java.util.Locale.ROOT).replace("PT", ""));
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("--keep-alive: not a duration: '" + s + "' (examples: 30s, 5m, 1h, -1)");
        }
    }
}
