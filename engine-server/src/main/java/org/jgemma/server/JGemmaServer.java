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

    /** Steps the loaded models' schedulers ran and the decode rows in them (rows / steps: the mean decode batch). */
    public long[] stepStatistics() {
        long steps = 0, rows = 0;
        for (var e : registry.snapshot()) {
            long[] st = e.getKey().model().stepStatistics();
            steps += st[0];
            rows += st[1];
        }
        return new long[] {steps, rows};
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
        if (cors(call)) return;
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

    /** Ollama's CORS headers (server/routes.go, gin-contrib/cors), sent with every allowed cross-origin answer. */
    private static final String ALLOW_HEADERS = "Authorization, Content-Type, User-Agent, Accept, X-Requested-With, OpenAI-Beta, "
            + "x-stainless-arch, x-stainless-async, x-stainless-custom-poll-interval, x-stainless-helper-method, x-stainless-lang, "
            + "x-stainless-os, x-stainless-package-version, x-stainless-poll-helper, x-stainless-retry-count, x-stainless-runtime, "
            + "x-stainless-runtime-version, x-stainless-timeout";

    /**
     * Cross-origin requests as Ollama answers them: origins on localhost, 127.0.0.1 or 0.0.0.0 (any port), app://,
     * file://, tauri://, vscode-webview://, vscode-file://, browser extensions, the page's own origin, and those of
     * {@code OLLAMA_ORIGINS} (comma-separated, {@code *} wildcards) are allowed; others get 403. Answers a preflight
     * ({@code OPTIONS}) and returns true when the request is done.
     */
    private boolean cors(HttpCall call) throws IOException {
        String origin = call.header("Origin");
        if (origin == null) {
            if (!call.method().equals("OPTIONS")) return false;
            call.responseHeader("Allow", "GET, HEAD, POST, DELETE, OPTIONS");
            call.sendEmpty(204);
            return true;
        }
        if (!originAllowed(origin, call.header("Host"))) {
            throw new ApiException(403, "origin '" + truncate(origin) + "' is not allowed (add it to OLLAMA_ORIGINS)", "forbidden_origin");
        }
        call.responseHeader("Access-Control-Allow-Origin", origin);
        call.responseHeader("Vary", "Origin");
        if (!call.method().equals("OPTIONS")) return false;
        call.responseHeader("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS");
        call.responseHeader("Access-Control-Allow-Headers", ALLOW_HEADERS);
        call.responseHeader("Access-Control-Max-Age", "43200");
        call.sendEmpty(204);
        return true;
    }

    private static final java.util.List<java.util.regex.Pattern> ORIGINS = origins();

    private static java.util.List<java.util.regex.Pattern> origins() {
        java.util.List<String> globs = new java.util.ArrayList<>();
        String env = System.getenv("OLLAMA_ORIGINS");
        if (env != null) for (String o : env.split(",")) if (!o.isBlank()) globs.add(o.strip());
        for (String h : new String[] {"localhost", "127.0.0.1", "0.0.0.0", "[::1]"}) {
            globs.addAll(java.util.List.of("http://" + h, "https://" + h, "http://" + h + ":*", "https://" + h + ":*"));
        }
        globs.addAll(java.util.List.of("app://*", "file://*", "tauri://*", "vscode-webview://*", "vscode-file://*",
                "chrome-extension://*", "moz-extension://*", "safari-web-extension://*"));
        return globs.stream().map(g -> java.util.regex.Pattern.compile(
                java.util.Arrays.stream(g.split("\\*", -1)).map(java.util.regex.Pattern::quote)
                        .collect(java.util.stream.Collectors.joining(".*")), java.util.regex.Pattern.CASE_INSENSITIVE)).toList();
    }

    static boolean originAllowed(String origin, String host) {
        if (host != null && (origin.equalsIgnoreCase("http://" + host) || origin.equalsIgnoreCase("https://" + host))) return true;
        for (java.util.regex.Pattern p : ORIGINS) if (p.matcher(origin).matches()) return true;
        return false;
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
