package org.jgemma.server;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import com.fasterxml.jackson.databind.JsonNode;
import org.jgemma.chat.ChatMessage;

/** What both APIs share: a model by name, its options layered under the request's, a lease for one generation. */
final class Generator {
    final ServerConfig cfg;
    final ModelCatalog catalog;
    final ModelRegistry registry;

    Generator(ServerConfig cfg, ModelCatalog catalog, ModelRegistry registry) {
        this.cfg = cfg;
        this.catalog = catalog;
        this.registry = registry;
    }

    /** A finished generation with the time its request spent loading the model. */
    record Run(Outcome outcome, long loadNanos) {}

    /**
     * Generates for one request: the model's manifest params under {@code requestOptions}; {@code messages} through
     * the chat template, or {@code rawPrompt} as it is.
     */
    Run run(ModelInfo info, SamplingOptions requestOptions, List<ChatMessage> messages, String rawPrompt, Duration keepAlive,
            Boolean cachePrompt, ModelRunner.Sink sink) throws IOException, InterruptedException {
        SamplingOptions opts = requestOptions.over(SamplingOptions.fromOllama(info.params(), "params", false));
        ModelRegistry.Lease lease = registry.acquire(info);
        try {
            GenerationJob job = new GenerationJob(messages, rawPrompt, opts.build(lease.runner().contextSize()),
                    opts.numCtx == null ? 0 : opts.numCtx, cachePrompt != null ? cachePrompt : cfg.cachePrompt());
            return new Run(lease.runner().run(job, sink), lease.loadNanos());
        } finally {
            registry.release(lease, keepAlive);
        }
    }

    /** llama-server's {@code cache_prompt} request field; null when absent. */
    static Boolean cachePrompt(JsonNode req) {
        return Json.given(req, "cache_prompt") ? Json.bool(req, "cache_prompt", true) : null;
    }

    /** Loads the model (an empty prompt: Ollama's way to preload); returns the load time. */
    long load(ModelInfo info, Duration keepAlive) throws IOException {
        ModelRegistry.Lease lease = registry.acquire(info);
        registry.release(lease, keepAlive);
        return lease.loadNanos();
    }

    private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|ms|s|m|h)");

    /**
     * Ollama's {@code keep_alive}: a number of seconds or a Go duration ({@code "5m"}, {@code "1h30m"}, {@code "-1s"});
     * negative keeps the model loaded; null when absent.
     */
    static Duration keepAlive(JsonNode req) {
        JsonNode n = req.get("keep_alive");
        if (n == null || n.isNull()) return null;
        if (n.isNumber()) {
            double s = n.doubleValue();
            if (!Double.isFinite(s) || Math.abs(s) > 1e12) throw ApiException.badRequest("field 'keep_alive' must be a finite number of seconds, got " + n.asText());
            return s < 0 ? Duration.ofSeconds(-1) : Duration.ofNanos((long) (s * 1e9));
        }
        if (!n.isTextual()) throw Json.wrongType("keep_alive", "a duration such as \"5m\" or a number of seconds", n);
        String t = n.textValue().strip();
        boolean negative = t.startsWith("-");
        String body = negative || t.startsWith("+") ? t.substring(1) : t;
        if (body.matches("\\d{1,12}(\\.\\d{1,9})?")) { // a bare number: seconds
            double s = Double.parseDouble(body);
            return negative ? Duration.ofSeconds(-1) : Duration.ofNanos((long) (s * 1e9));
        }
        Matcher m = DURATION_PART.matcher(body);
        int at = 0;
        double nanos = 0;
        while (at < body.length() && m.find(at) && m.start() == at && body.length() <= 64) {
            double v = Double.parseDouble(m.group(1));
            nanos += v * switch (m.group(2)) {
                case "ns" -> 1;
                case "us", "µs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            };
            at = m.end();
        }
        if (body.isEmpty() || at != body.length() || nanos > 1e21) {
            throw ApiException.badRequest("field 'keep_alive' is not a duration: '" + (t.length() > 40 ? t.substring(0, 40) + "..." : t)
                    + "' (examples: \"5m\", \"1h30m\", \"-1\", 300)");
        }
        return negative ? Duration.ofSeconds(-1) : Duration.ofNanos((long) Math.min(nanos, Long.MAX_VALUE));
    }
}
