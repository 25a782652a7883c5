package org.jgemma.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jgemma.chat.ChatMessage;
import org.jgemma.vision.RgbImage;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufValue;

/**
 * Ollama's HTTP API (docs/api.md; server/routes.go for status codes and error texts): {@code /api/generate},
 * {@code /api/chat} (NDJSON streams, or one object with {@code "stream": false}; durations in nanoseconds),
 * {@code /api/tags}, {@code /api/show}, {@code /api/ps}, {@code /api/version}. Errors are {@code {"error": "..."}}.
 */
final class OllamaApi {
    private final Generator gen;
    private final String version;

    OllamaApi(Generator gen, String version) {
        this.gen = gen;
        this.version = version;
    }

    /** Ollama's RFC 3339 time with nanoseconds, UTC. */
    static String time(Instant t) {
        return DateTimeFormatter.ISO_INSTANT.format(t);
    }

    static String timeWithZone(Instant t) {
        return DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(t.atOffset(ZoneOffset.UTC));
    }

    void version(HttpCall call) throws IOException {
        ObjectNode o = Json.object();
        o.put("version", version);
        call.sendJson(200, o);
    }

    // ---- generation ------------------------------------------------------------------------------------------

    void generate(HttpCall call) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        ObjectNode req = call.jsonBody();
        ModelInfo info = gen.catalog.find(Json.string(req, "model", null));
        rejectUnsupported(req);
        List<RgbImage> images = images(req, "images");
        if (Json.string(req, "suffix", "").length() > 0) throw ApiException.unsupported("suffix (fill-in-the-middle)");
        if (Json.nonEmpty(req, "context")) throw ApiException.unsupported("context (the deprecated conversation memory of /api/generate; send the conversation to /api/chat)");
        String prompt = Json.string(req, "prompt", "");
        String system = Json.string(req, "system", null);
        boolean raw = Json.bool(req, "raw", false);
        boolean stream = Json.bool(req, "stream", true);
        Duration keepAlive = Generator.keepAlive(req);
        SamplingOptions options = SamplingOptions.fromOllama(req.get("options"), "options", true);
        if (raw && system != null && !system.isEmpty()) throw ApiException.badRequest("raw mode does not support template, system, or context");
        if (raw && !images.isEmpty()) throw ApiException.badRequest("raw mode does not support images (they need the chat template)");
        String name = Json.string(req, "model", null);
        if (prompt.isEmpty()) {
            loadOrUnload(call, info, name, keepAlive, "response");
            return;
        }
        List<ChatMessage> messages = null;
        if (!raw) {
            messages = new ArrayList<>();
            String sys = system != null ? system : info.system();
            if (sys != null && !sys.isEmpty()) messages.add(new ChatMessage("system", sys));
            messages.add(new ChatMessage("user", prompt, images));
        }
        respond(call, info, name, options, messages, raw ? prompt : null, keepAlive, Generator.cachePrompt(req), stream, t0, "response");
    }

    void chat(HttpCall call) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        ObjectNode req = call.jsonBody();
        ModelInfo info = gen.catalog.find(Json.string(req, "model", null));
        rejectUnsupported(req);
        if (Json.nonEmpty(req, "tools")) throw ApiException.unsupported("tools (function calling)");
        boolean stream = Json.bool(req, "stream", true);
        Duration keepAlive = Generator.keepAlive(req);
        SamplingOptions options = SamplingOptions.fromOllama(req.get("options"), "options", true);
        JsonNode msgs = req.get("messages");
        String name = Json.string(req, "model", null);
        if (msgs == null || msgs.isNull() || (msgs.isArray() && msgs.isEmpty())) {
            loadOrUnload(call, info, name, keepAlive, "message");
            return;
        }
        List<ChatMessage> messages = ChatMessages.parse(msgs, MESSAGES, info.system());
        respond(call, info, name, options, messages, null, keepAlive, Generator.cachePrompt(req), stream, t0, "message");
    }

    /** Ollama's messages: system, user, assistant; content a string, images an array of base64 strings. */
    static final ChatMessages.Dialect MESSAGES = new ChatMessages.Dialect(ChatMessages.roles("system", "user", "assistant"),
            Set.of("tool"), (role, m, where) -> new ChatMessage(role, Json.string(m, "content", ""), images(m, where + ".images")));

    /**
     * Ollama's {@code images}: an array of base64-encoded image files (PNG, JPEG, ...), decoded here so a bad one is a 400
     * naming it. Ollama's api/types.go ImageData is []byte, which JSON carries as base64.
     */
    private static List<RgbImage> images(JsonNode obj, String field) {
        String name = field.contains(".") ? field.substring(field.lastIndexOf('.') + 1) : field;
        JsonNode a = obj.get(name);
        if (a == null || a.isNull()) return List.of();
        if (!a.isArray()) throw Json.wrongType(field, "an array of base64 strings", a);
        List<RgbImage> out = new ArrayList<>();
        int j = 0;
        for (JsonNode img : a) {
            String w = field + "[" + j++ + "]";
            if (!img.isTextual()) throw Json.wrongType(w, "a base64 string", img);
            out.add(ImageInputs.decodeBase64(img.textValue(), w));
        }
        return out;
    }

    /** Features of both endpoints that are not built: refused by name. */
    private static void rejectUnsupported(ObjectNode req) {
        JsonNode format = req.get("format");
        if (format != null && !format.isNull() && !(format.isTextual() && format.textValue().isEmpty())) {
            throw ApiException.unsupported("format (JSON mode / structured outputs)");
        }
        if (Json.string(req, "template", "").length() > 0) throw ApiException.unsupported("template (a request's own prompt template)");
        JsonNode think = req.get("think");
        if (think != null && !think.isNull() && !(think.isBoolean() && !think.booleanValue())) {
            throw ApiException.unsupported("think (thinking output)");
        }
        if (Json.bool(req, "logprobs", false)) throw ApiException.unsupported("logprobs");
    }


    /** An empty prompt / message list: load the model (done_reason "load"), or unload it with keep_alive 0. */
    private void loadOrUnload(HttpCall call, ModelInfo info, String name, Duration keepAlive, String field) throws IOException {
        ObjectNode o = Json.object();
        o.put("model", name);
        o.put("created_at", time(Instant.now()));
        if (field.equals("message")) {
            ObjectNode m = o.putObject("message");
            m.put("role", "assistant");
            m.put("content", "");
        } else {
            o.put("response", "");
        }
        o.put("done", true);
        if (keepAlive != null && keepAlive.isZero()) {
            gen.registry.unload(info);
            o.put("done_reason", "unload");
        } else {
            gen.load(info, keepAlive);
            o.put("done_reason", "load");
        }
        call.sendJson(200, o);
    }

    private void respond(HttpCall call, ModelInfo info, String name, SamplingOptions options, List<ChatMessage> messages,
                         String raw, Duration keepAlive, Boolean cachePrompt, boolean stream, long t0, String field)
            throws IOException, InterruptedException {
        ModelRunner.Sink sink;
        StringBuilder text = new StringBuilder();
        if (stream) {
            sink = piece -> {
                if (!call.streaming()) call.startStream();
                call.writeLine(chunk(name, field, piece, false));
            };
        } else {
            sink = text::append;
        }
        Generator.Run run = gen.run(info, options, messages, raw, keepAlive, cachePrompt, sink);
        Outcome out = run.outcome();
        ObjectNode last = chunk(name, field, stream ? "" : out.text(), true);
        last.put("done_reason", out.doneReason());
        last.put("total_duration", System.nanoTime() - t0);
        last.put("load_duration", run.loadNanos());
        last.put("prompt_eval_count", out.promptTokens());
        last.put("prompt_eval_duration", out.promptNanos());
        last.put("eval_count", out.evalTokens());
        last.put("eval_duration", out.evalNanos());
        if (stream) {
            if (!call.streaming()) call.startStream();
            call.writeLine(last);
        } else {
            call.sendJson(200, last);
        }
    }

    private static ObjectNode chunk(String model, String field, String text, boolean done) {
        ObjectNode o = Json.object();
        o.put("model", model);
        o.put("created_at", time(Instant.now()));
        if (field.equals("message")) {
            ObjectNode m = o.putObject("message");
            m.put("role", "assistant");
            m.put("content", text);
        } else {
            o.put("response", text);
        }
        o.put("done", done);
        return o;
    }

    // ---- models ----------------------------------------------------------------------------------------------

    void tags(HttpCall call) throws IOException {
        ObjectNode o = Json.object();
        ArrayNode arr = o.putArray("models");
        for (ModelInfo m : gen.catalog.scan()) {
            ObjectNode e = arr.addObject();
            e.put("name", m.name());
            e.put("model", m.name());
            e.put("modified_at", timeWithZone(m.modified()));
            e.put("size", m.size());
            e.put("digest", m.digest());
            e.set("details", details(m));
        }
        call.sendJson(200, o);
    }

    static ObjectNode details(ModelInfo m) {
        ObjectNode d = Json.object();
        d.put("parent_model", "");
        d.put("format", "gguf");
        d.put("family", m.details().family());
        d.putArray("families").add(m.details().family());
        d.put("parameter_size", m.details().parameterSize());
        d.put("quantization_level", m.details().quantization());
        return d;
    }

    void ps(HttpCall call) throws IOException {
        ObjectNode o = Json.object();
        ArrayNode arr = o.putArray("models");
        for (Map.Entry<ModelRunner, Instant> e : gen.registry.snapshot()) {
            ModelRunner r = e.getKey();
            ModelInfo m = r.info();
            ObjectNode x = arr.addObject();
            x.put("name", m.name());
            x.put("model", m.name());
            x.put("size", r.estimatedBytes());
            x.put("digest", m.digest());
            x.set("details", details(m));
            Instant exp = e.getValue().equals(Instant.MAX) ? Instant.parse("2318-01-01T00:00:00Z") : e.getValue();
            x.put("expires_at", timeWithZone(exp));
            boolean gpu = !r.model().backendName().equals("cpu") && !r.model().backendName().equals("reference");
            x.put("size_vram", gpu ? r.estimatedBytes() : 0);
            x.put("context_length", r.contextSize());
        }
        call.sendJson(200, o);
    }

    void show(HttpCall call) throws IOException {
        ObjectNode req = call.jsonBody();
        String name = Json.string(req, "model", null);
        if (name == null) name = Json.string(req, "name", null); // the older field
        ModelInfo m = gen.catalog.find(name);
        boolean verbose = Json.bool(req, "verbose", false);
        ObjectNode o = Json.object();
        if (m.license() != null) o.put("license", m.license());
        StringBuilder modelfile = new StringBuilder("# Modelfile generated by jgemma serve\nFROM ").append(m.path()).append('\n');
        StringBuilder params = new StringBuilder();
        if (m.params() != null) {
            for (var it = m.params().fields(); it.hasNext(); ) {
                var f = it.next();
                List<JsonNode> values = new ArrayList<>();
                if (f.getValue().isArray()) f.getValue().forEach(values::add); else values.add(f.getValue());
                for (JsonNode v : values) {
                    String line = String.format("%-30s %s", f.getKey(), v.isTextual() ? Json.MAPPER.valueToTree(v.textValue()).toString() : v.toString());
                    params.append(line).append('\n');
                    modelfile.append("PARAMETER ").append(f.getKey()).append(' ').append(v.isTextual() ? v.toString() : v.toString()).append('\n');
                }
            }
        }
        String template;
        try (GgufFile f = GgufFile.open(m.path())) {
            template = m.template() != null ? m.template() : f.findString("tokenizer.chat_template").orElse("");
            ObjectNode mi = o.putObject("model_info");
            for (Map.Entry<String, GgufValue> e : new java.util.TreeMap<>(f.metadata()).entrySet()) {
                GgufValue v = e.getValue();
                if (e.getKey().equals("tokenizer.chat_template")) continue;
                if (v.isArray()) {
                    if (!verbose) { mi.putNull(e.getKey()); continue; }
                    mi.set(e.getKey(), Json.MAPPER.valueToTree(v.value()));
                } else {
                    mi.set(e.getKey(), Json.MAPPER.valueToTree(v.value()));
                }
            }
            mi.put("general.parameter_count", m.details().parameterCount());
        }
        if (m.template() != null) modelfile.append("TEMPLATE \"\"\"").append(m.template()).append("\"\"\"\n");
        if (m.system() != null) modelfile.append("SYSTEM \"\"\"").append(m.system()).append("\"\"\"\n");
        o.put("modelfile", modelfile.toString());
        o.put("parameters", params.toString().stripTrailing());
        o.put("template", template);
        if (m.system() != null) o.put("system", m.system());
        o.set("details", details(m));
        o.putArray("capabilities").add("completion");
        o.put("modified_at", timeWithZone(m.modified()));
        call.sendJson(200, o);
    }
}
