package org.jgemma.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code jgemma serve}: Ollama's and OpenAI's HTTP APIs on the JDK's HTTP server, one virtual thread per exchange.
 *
 * <p>Routes: {@code GET|HEAD /} ("jgemma is running"), {@code /ui} (a chat page), the Ollama API under
 * {@code /api/} ({@link OllamaApi}) and the OpenAI API under {@code /v1/} ({@link OpenAiApi}); endpoints that are not
 * built (pull, push, create, copy, delete, embeddings) answer 501 naming the feature. With an API key every request
 * but {@code /} and the static {@code /ui} page needs {@code Authorization: Bearer KEY}. Listening on loopback, the
 * server also refuses requests whose {@code Host} is not a loopback name (DNS rebinding, as Ollama's
 * allowedHostsMiddleware does). Every failure is answered with a JSON error; none escapes as an unhandled exception.
 */
public final class JGemmaServer implements AutoCloseable {
    private final ServerConfig cfg;
    private final HttpServer http;
    private final ExecutorService executor;
    private final ModelCatalog catalog;
    private final ModelRegistry registry;
    private final OllamaApi ollama;
    private final OpenAiApi openai;
    private final byte[] uiPage;

    private JGemmaServer(ServerConfig cfg) throws IOException {
        this.cfg = cfg;
        this.catalog = new ModelCatalog(cfg.ollamaRoots(), cfg.modelDirs());
        this.registry = new ModelRegistry(cfg);
        Generator gen = new Generator(cfg, catalog, registry);
        this.ollama = new OllamaApi(gen, version());
        this.openai = new OpenAiApi(gen);
        try (InputStream in = JGemmaServer.class.getResourceAsStream("ui.html")) {
            this.uiPage = in == null ? "<!doctype html><p>ui.html missing from the jar".getBytes(StandardCharsets.UTF_8) : in.readAllBytes();
        }
        catalog.scan();
        this.executor = Executors.newVirtualThreadPerTaskExecutor();
        this.http = HttpServer.create(new InetSocketAddress(InetAddress.getByName(cfg.host()), cfg.port()), 256);
        http.setExecutor(executor);
        http.createContext("/", this::handle);
    }

    /**
     * Starts a server. The JDK server's own limits are set first (system properties, read once per JVM, each left
     * as it is when already set): 30 s to receive a request's headers, idle connections closed after 30 s, and a
     * response still running after 30 minutes is cut off (so a client that stops reading holds its slot at most
     * that long).
     */
    public static JGemmaServer start(ServerConfig cfg) throws IOException {
        System.setProperty("sun.net.httpserver.maxReqTime", System.getProperty("sun.net.httpserver.maxReqTime", "30"));
        System.setProperty("sun.net.httpserver.idleInterval", System.getProperty("sun.net.httpserver.idleInterval", "30"));
        System.setProperty("sun.net.httpserver.maxRspTime", System.getProperty("sun.net.httpserver.maxRspTime", "1800"));
        System.setProperty("sun.net.httpserver.maxReqHeaders", System.getProperty("sun.net.httpserver.maxReqHeaders", "100"));
        JGemmaServer s = new JGemmaServer(cfg);
        s.http.start();
        return s;
    }

    public int port() {
        return http.getAddress().getPort();
    }

    /** {@code http://host:port} (IPv6 hosts in brackets). */
    public URI uri() {
        String h = cfg.host().contains(":") ? "[" + cfg.host() + "]" : cfg.host();
        return URI.create("http://" + h + ":" + port());
    }

    /** The names of the models the server found (Ollama stores and models folders). */
    public java.util.List<String> modelNames() {
        return catalog.models().stream().map(ModelInfo::name).toList();
    }

    /** Generations ended early because their client went away, over all loaded models (for tests and logs). */
    public long cancelledGenerations() {
        return registry.snapshot().stream().mapToLong(e -> e.getKey().cancelledCount()).sum();
    }

    /** Sessions (KV caches) made over all loaded models: at most --parallel per model however many requests ran. */
    public int sessionsCreated() {
        return registry.snapshot().stream().mapToInt(e -> e.getKey().sessionsCreated()).sum();
    }

    /** Bytes the backends of the loaded models hold (weights, activations, the slots' KV caches). */
    public long backendBytes() {
        return registry.snapshot().stream().mapToLong(e -> e.getKey().model().allocatedBytes()).sum();
    }

    /** Requests generating now, over all loaded models. */
    public int runningGenerations() {
        return registry.snapshot().stream().mapToInt(e -> e.getKey().running()).sum();
    }

    static String version() {
        Properties p = new Properties();
        try (InputStream in = JGemmaServer.class.getResourceAsStream("version.properties")) {
            if (in != null) p.load(in);
        } catch (IOException ignored) {
            // unknown version
        }
        return p.getProperty("version", "0.0.0");
    }

    private void handle(HttpExchange ex) {
        HttpCall call = new HttpCall(ex, cfg.maxBodyBytes());
        try {
            route(call);
        } catch (ApiException e) {
            answer(call, e);
        } catch (IOException e) {
            // the client went away (or sent a broken request); nobody to answer
        } catch (InterruptedException e) {
            answer(call, new ApiException(503, "the server is shutting down", "shutting_down"));
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            System.err.println("jgemma serve: internal error on " + call.method() + " " + call.path() + ": " + e);
            e.printStackTrace(System.err);
            answer(call, new ApiException(500, "internal error: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()), "internal_error"));
        } finally {
            call.close();
        }
    }

    private static void answer(HttpCall call, ApiException e) {
        try {
            if (!call.answered() || call.streaming()) call.sendError(e);
        } catch (IOException ignored) {
            // the client went away
        }
    }

    private void route(HttpCall call) throws IOException, InterruptedException {
        String method = call.method();
        String path = call.path();
        checkHost(call);
        boolean open = path.equals("/") || path.equals("/ui") || path.equals("/ui/");
        if (!open) checkKey(call);
        switch (path) {
            case "/" -> {
                need(call, "GET", "HEAD");
                call.sendText(200, "text/plain; charset=utf-8", "jgemma is running");
            }
            case "/ui", "/ui/" -> {
                need(call, "GET", "HEAD");
                call.send(200, "text/html; charset=utf-8", uiPage);
            }
            case "/api/version" -> { need(call, "GET", "HEAD"); ollama.version(call); }
            case "/api/tags" -> { need(call, "GET", "HEAD"); ollama.tags(call); }
            case "/api/ps" -> { need(call, "GET"); ollama.ps(call); }
            case "/api/show" -> { need(call, "POST"); ollama.show(call); }
            case "/api/generate" -> { need(call, "POST"); ollama.generate(call); }
            case "/api/chat" -> { need(call, "POST"); ollama.chat(call); }
            case "/api/pull" -> throw notBuilt("pulling models (/api/pull); use `ollama pull`, then serve its store");
            case "/api/push" -> throw notBuilt("pushing models (/api/push)");
            case "/api/create" -> throw notBuilt("creating models (/api/create)");
            case "/api/copy" -> throw notBuilt("copying models (/api/copy)");
            case "/api/delete" -> throw notBuilt("deleting models (/api/delete)");
            case "/api/embed", "/api/embeddings", "/v1/embeddings" -> throw notBuilt("embeddings (" + path + ")");
            case "/v1/chat/completions" -> { need(call, "POST"); openai.chatCompletions(call); }
            case "/v1/completions" -> { need(call, "POST"); openai.completions(call); }
            case "/v1/models" -> { need(call, "GET"); openai.models(call); }
            default -> {
                if (path.startsWith("/v1/models/")) {
                    need(call, "GET");
                    openai.model(call, URLDecoder.decode(path.substring("/v1/models/".length()), StandardCharsets.UTF_8));
                } else if (path.startsWith("/api/blobs/")) {
                    throw notBuilt("uploading blobs (/api/blobs)");
                } else {
                    throw new ApiException(404, "no such endpoint: " + method + " " + truncate(path), "not_found");
                }
            }
        }
    }

    private static ApiException notBuilt(String feature) {
        return new ApiException(501, feature + " is not supported by jgemma serve yet", "unsupported_feature");
    }

    private static void need(HttpCall call, String... methods) {
        for (String m : methods) if (m.equals(call.method())) return;
        throw new ApiException(405, "method " + truncate(call.method()) + " not allowed on " + truncate(call.path())
                + "; use " + String.join(" or ", methods), "method_not_allowed");
    }

    private static String truncate(String s) {
        String t = s.length() > 100 ? s.substring(0, 100) + "..." : s;
        return t.replaceAll("\\p{Cntrl}", "?");
    }

    /** Bound to loopback, only loopback Host names are served (a web page elsewhere cannot rebind a name to us). */
    private void checkHost(HttpCall call) {
        if (!cfg.loopbackOnly()) return;
        String host = call.header("Host");
        if (host == null) return; // HTTP/1.0 clients
        String h = host.toLowerCase(Locale.ROOT).strip();
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            h = end < 0 ? h : h.substring(1, end);
        } else if (h.indexOf(':') >= 0 && h.indexOf(':') == h.lastIndexOf(':')) {
            h = h.substring(0, h.indexOf(':'));
        }
        if (h.equals("localhost") || h.endsWith(".localhost") || h.equals("::1") || h.startsWith("127.") || h.equals(cfg.host())) return;
        throw new ApiException(403, "host '" + truncate(host) + "' is not allowed: the server listens on loopback only", "forbidden_host");
    }

    private void checkKey(HttpCall call) {
        if (cfg.apiKey() == null) return;
        String auth = call.header("Authorization");
        String want = "Bearer " + cfg.apiKey();
        if (auth == null || !MessageDigest.isEqual(auth.strip().getBytes(StandardCharsets.UTF_8), want.getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(401, auth == null ? "unauthorized: this server needs an API key (Authorization: Bearer KEY)"
                    : "unauthorized: wrong API key", "invalid_api_key");
        }
    }

    /** Stops listening (running exchanges get a second to finish) and unloads every model. */
    @Override
    public void close() {
        http.stop(1);
        executor.shutdownNow();
        registry.close();
    }
}
