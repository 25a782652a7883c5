package org.jgemma.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jgemma ps}: what a running server (jgemma serve, or Ollama) has loaded, from its {@code GET /api/ps}, in
 * {@code ollama ps}'s table (Ollama cmd/cmd.go ListRunningHandler). The server is found as Ollama's client finds it:
 * {@code OLLAMA_HOST} ({@code host}, {@code host:port} or {@code scheme://host:port}), else 127.0.0.1:11434
 * (Ollama envconfig.Host).
 */
@Command(name = "ps", mixinStandardHelpOptions = true, description = "List the models a running server has loaded (its GET /api/ps).")
final class PsCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--host", paramLabel = "URL", description = "the server (default: $OLLAMA_HOST, else http://127.0.0.1:11434)")
    String host;

    @Override
    public Integer call() throws Exception {
        URI base = baseUri(host != null ? host : System.getenv("OLLAMA_HOST"));
        PrintWriter out = spec.commandLine().getOut();
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpResponse<String> r;
        try {
            r = client.send(HttpRequest.newBuilder(base.resolve("/api/ps")).timeout(Duration.ofSeconds(10)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException | HttpTimeoutException e) {
            throw new IOException("no server is running at " + base + " (start one with `jgemma serve` or `ollama serve`;"
                    + " OLLAMA_HOST or --host names another)");
        }
        if (r.statusCode() != 200) {
            throw new IOException(base + "/api/ps answered HTTP " + r.statusCode() + ": " + r.body().lines().findFirst().orElse(""));
        }
        JsonNode json;
        try {
            json = new ObjectMapper().readTree(r.body());
        } catch (IOException e) {
            throw new IOException(base + "/api/ps did not answer JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"});
        for (JsonNode m : json.path("models")) {
            long size = m.path("size").asLong(), vram = m.path("size_vram").asLong();
            String proc = vram == 0 ? "100% CPU" : vram == size ? "100% GPU" : vram > size || size == 0 ? "Unknown"
                    : Math.round((size - vram) * 100.0 / size) + "%/" + (100 - Math.round((size - vram) * 100.0 / size)) + "% CPU/GPU";
            String digest = m.path("digest").asText();
            rows.add(new String[] {m.path("name").asText(m.path("model").asText()), digest.length() >= 12 ? digest.substring(0, 12) : digest,
                    ListCommand.humanBytes(size), proc, m.path("context_length").asText(""), until(m.path("expires_at").asText(""))});
        }
        ListCommand.table(rows, out);
        return 0;
    }

    /** Ollama envconfig.Host: scheme http unless given, port 11434 unless given (80/443 for an explicit http/https). */
    static URI baseUri(String env) {
        String s = env == null ? "" : env.strip();
        String scheme = "http", hostport = s;
        String defaultPort = "11434";
        int sep = s.indexOf("://");
        if (sep >= 0) {
            scheme = s.substring(0, sep);
            hostport = s.substring(sep + 3);
            defaultPort = scheme.equals("https") ? "443" : "80";
        }
        int slash = hostport.indexOf('/');
        if (slash >= 0) hostport = hostport.substring(0, slash);
        String h = hostport, port = defaultPort;
        int colon = hostport.lastIndexOf(':');
        if (colon > 0 && !hostport.endsWith("]") && hostport.indexOf(':') == colon) {
            h = hostport.substring(0, colon);
            port = hostport.substring(colon + 1);
        }
        if (h.isEmpty()) h = "127.0.0.1";
        if (h.equals("0.0.0.0")) h = "127.0.0.1"; // a bind address: connect locally (Ollama ConnectableHost)
        return URI.create(scheme + "://" + h + ":" + port);
    }

    private static String until(String expires) {
        if (expires.isEmpty()) return "";
        try {
            OffsetDateTime t = OffsetDateTime.parse(expires);
            Duration d = Duration.between(OffsetDateTime.now(), t);
            if (d.isNegative()) return "Stopping...";
            if (d.toDays() > 365) return "Forever";
            long m = d.toMinutes();
            return m < 1 ? "Less than a minute from now" : m < 60 ? m + " minutes from now"
                    : String.format(Locale.ROOT, "%d hours from now", d.toHours());
        } catch (RuntimeException e) {
            return expires;
        }
    }
}
