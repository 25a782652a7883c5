package org.jgemma.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.jgemma.chat.ChatMessage;
import org.jgemma.vision.RgbImage;

/**
 * OpenAI's API, as Ollama's compatibility layer serves it (openai/openai.go): {@code POST /v1/chat/completions},
 * {@code POST /v1/completions} (server-sent events ending in {@code data: [DONE]} with {@code "stream": true}),
 * {@code GET /v1/models}, {@code GET /v1/models/{model}}. Errors in OpenAI's error-object shape. Defaults as Ollama's
 * layer sets them: temperature 1, top_p 1. {@code /v1/completions} continues the prompt as raw text.
 */
final class OpenAiApi {
    private final Generator gen;
    private final AtomicLong ids = new AtomicLong();

    OpenAiApi(Generator gen) {
        this.gen = gen;
    }

    void chatCompletions(HttpCall call) throws IOException, InterruptedException {
        ObjectNode req = call.jsonBody();
        String name = Json.string(req, "model", null);
        ModelInfo info = gen.catalog.find(name);
        rejectUnsupported(req);
        if (nonEmpty(req, "tools") || nonEmpty(req, "functions")) throw ApiException.unsupported("tools (function calling)");
        JsonNode tc = req.get("tool_choice");
        if (tc != null && !tc.isNull() && !(tc.isTextual() && tc.textValue().equals("none"))) throw ApiException.unsupported("tool_choice");
        JsonNode msgs = req.get("messages");
        if (msgs == null || msgs.isNull()) throw ApiException.badRequest("field 'messages' is required");
        if (!msgs.isArray()) throw Json.wrongType("messages", "an array", msgs);
        if (msgs.isEmpty()) throw ApiException.badRequest("field 'messages' must hold at least one message");
        List<ChatMessage> messages = ChatMessages.parse(msgs, MESSAGES, info.system());
        SamplingOptions options = options(req, true);
        run(call, req, info, name, options, messages, null, true);
    }

    void completions(HttpCall call) throws IOException, InterruptedException {
        ObjectNode req = call.jsonBody();
        String name = Json.string(req, "model", null);
        ModelInfo info = gen.catalog.find(name);
        rejectUnsupported(req);
        if (Json.string(req, "suffix", "").length() > 0) throw ApiException.unsupported("suffix (fill-in-the-middle)");
        if (Json.given(req, "echo") && Json.bool(req, "echo", false)) throw ApiException.unsupported("echo");
        if (Json.given(req, "best_of") && Json.integer(req, "best_of", 1, 1_000_000) != 1) throw ApiException.unsupported("best_of other than 1");
        JsonNode p = req.get("prompt");
        String prompt;
        if (p == null || p.isNull()) {
            throw ApiException.badRequest("field 'prompt' is required");
        } else if (p.isTextual()) {
            prompt = p.textValue();
        } else if (p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
            prompt = p.get(0).textValue();
        } else if (p.isArray() && p.size() > 1) {
            throw ApiException.unsupported("several prompts in one request");
        } else {
            throw Json.wrongType("prompt", "a string", p);
        }
        if (prompt.isEmpty()) throw ApiException.badRequest("field 'prompt' must not be empty");
        run(call, req, info, name, options(req, false), null, prompt, false);
    }

    /**
     * OpenAI's messages: system, developer (OpenAI's newer name for system), user, assistant; content a string or an
     * array of parts (text, image_url).
     */
    static final ChatMessages.Dialect MESSAGES;

    static {
        Map<String, String> roles = ChatMessages.roles("system", "developer", "user", "assistant");
        roles.put("developer", "system");
        MESSAGES = new ChatMessages.Dialect(roles, Set.of("tool", "function"), (role, m, where) -> {
            List<RgbImage> images = new ArrayList<>();
            return new ChatMessage(role, content(m, where, images), images);
        });
    }

    /** Message content: a string, or an array of {@code {"type": "text", "text": ...}} parts. */
    private static String content(JsonNode m, String where, List<RgbImage> images) {
        JsonNode c = m.get("content");
        if (c == null || c.isNull()) return "";
        if (c.isTextual()) return c.textValue();
        if (!c.isArray()) throw Json.wrongType(where + ".content", "a string or an array of content parts", c);
        StringBuilder sb = new StringBuilder();
        int j = 0;
        for (JsonNode part : c) {
            String pw = where + ".content[" + j++ + "]";
            if (!part.isObject()) throw Json.wrongType(pw, "an object", part);
            String type = Json.string(part, "type", null);
            if ("text".equals(type)) {
                sb.append(Json.string(part, "text", ""));
            } else if ("image_url".equals(type)) { // {"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}}
                JsonNode iu = part.get("image_url");
                String url = iu != null && iu.isObject() ? Json.string(iu, "url", null) : iu != null && iu.isTextual() ? iu.textValue() : null;
                if (url == null) throw ApiException.badRequest("field '" + pw + ".image_url.url' is required");
                images.add(ImageInputs.decodeDataUrl(url, pw + ".image_url.url"));
            } else if ("input_image".equals(type)) {
                throw ApiException.unsupported("content part type 'input_image' (the Responses API's) in " + pw + "; use image_url");
            } else {
                throw ApiException.unsupported("content part type '" + type + "' in " + pw);
            }
        }
        return sb.toString();
    }

    private static void rejectUnsupported(ObjectNode req) {
        if (Json.given(req, "n") && Json.integer(req, "n", 1, 128) != 1) throw ApiException.unsupported("n other than 1 (several choices)");
        JsonNode rf = req.get("response_format");
        if (rf != null && !rf.isNull()) {
            if (!rf.isObject()) throw Json.wrongType("response_format", "an object", rf);
            String type = Json.string(rf, "type", "text");
            if (!type.equals("text")) throw ApiException.unsupported("response_format '" + type + "' (JSON mode / structured outputs)");
        }
        JsonNode lp = req.get("logprobs");
        if (lp != null && !lp.isNull() && !(lp.isBoolean() && !lp.booleanValue()) && !(lp.isIntegralNumber() && lp.intValue() == 0)) {
            throw ApiException.unsupported("logprobs");
        }
        if (Json.given(req, "logit_bias") && req.get("logit_bias").isObject() && !req.get("logit_bias").isEmpty()) {
            throw ApiException.unsupported("logit_bias");
        }
    }

    private static boolean nonEmpty(JsonNode o, String field) {
        JsonNode n = o.get(field);
        return n != null && !n.isNull() && !(n.isArray() && n.isEmpty());
    }

    /** OpenAI's sampling fields as Ollama options (temperature and top_p default to 1, as OpenAI's do). */
    private static SamplingOptions options(ObjectNode req, boolean chat) {
        SamplingOptions o = new SamplingOptions();
        Double t = Json.number(req, "temperature", 0, 2);
        o.temperature = t == null ? 1.0 : t;
        Double p = Json.number(req, "top_p", 0, 1);
        o.topP = p == null ? 1.0 : p;
        o.frequencyPenalty = Json.number(req, "frequency_penalty", -2, 2);
        o.presencePenalty = Json.number(req, "presence_penalty", -2, 2);
        o.seed = Json.integer(req, "seed", Long.MIN_VALUE, Long.MAX_VALUE);
        Long max = chat && Json.given(req, "max_completion_tokens") ? Json.integer(req, "max_completion_tokens", 1, 1_000_000_000)
                : Json.integer(req, "max_tokens", 1, 1_000_000_000);
        if (max != null) o.numPredict = (int) (long) max;
        o.stop = Json.strings(req, "stop", 4);
        return o;
    }

    private void run(HttpCall call, ObjectNode req, ModelInfo info, String name, SamplingOptions options,
                     List<ChatMessage> messages, String raw, boolean chat) throws IOException, InterruptedException {
        boolean stream = Json.bool(req, "stream", false);
        boolean includeUsage = false;
        JsonNode so = req.get("stream_options");
        if (so != null && !so.isNull()) {
            if (!so.isObject()) throw Json.wrongType("stream_options", "an object", so);
            includeUsage = Json.bool(so, "include_usage", false);
        }
        Duration keepAlive = Generator.keepAlive(req);
        String id = (chat ? "chatcmpl-" : "cmpl-") + ids.incrementAndGet();
        long created = System.currentTimeMillis() / 1000;
        boolean[] first = {true};
        ModelRunner.Sink sink = stream ? piece -> {
            if (!call.streaming()) call.startStream();
            call.writeEvent(chunk(id, created, name, chat, piece, null, first[0]));
            first[0] = false;
        } : piece -> { };
        Generator.Run run = gen.run(info, options, messages, raw, keepAlive, Generator.cachePrompt(req), sink);
        Outcome out = run.outcome();
        ObjectNode usage = Json.object();
        usage.put("prompt_tokens", out.promptTokens());
        usage.put("completion_tokens", out.evalTokens());
        usage.put("total_tokens", out.promptTokens() + out.evalTokens());
        if (stream) {
            if (!call.streaming()) call.startStream();
            call.writeEvent(chunk(id, created, name, chat, "", out.doneReason(), first[0]));
            if (includeUsage) {
                ObjectNode u = envelope(id, created, name, chat ? "chat.completion.chunk" : "text_completion");
                u.putArray("choices");
                u.set("usage", usage);
                call.writeEvent(u);
            }
            call.writeEventData("[DONE]".getBytes(StandardCharsets.US_ASCII));
            return;
        }
        ObjectNode o = envelope(id, created, name, chat ? "chat.completion" : "text_completion");
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", 0);
        if (chat) {
            ObjectNode m = choice.putObject("message");
            m.put("role", "assistant");
            m.put("content", out.text());
        } else {
            choice.put("text", out.text());
            choice.putNull("logprobs");
        }
        choice.put("finish_reason", out.doneReason());
        o.set("usage", usage);
        call.sendJson(200, o);
    }

    private static ObjectNode envelope(String id, long created, String model, String object) {
        ObjectNode o = Json.object();
        o.put("id", id);
        o.put("object", object);
        o.put("created", created);
        o.put("model", model);
        o.put("system_fingerprint", "fp_jgemma");
        return o;
    }

    /** A stream chunk: a delta (chat) or a text piece (completions); the last one has a finish_reason. */
    private static ObjectNode chunk(String id, long created, String model, boolean chat, String text, String finish, boolean first) {
        ObjectNode o = envelope(id, created, model, chat ? "chat.completion.chunk" : "text_completion");
        ArrayNode choices = o.putArray("choices");
        ObjectNode c = choices.addObject();
        c.put("index", 0);
        if (chat) {
            ObjectNode d = c.putObject("delta");
            if (first) d.put("role", "assistant");
            if (finish == null || !text.isEmpty()) d.put("content", text);
        } else {
            c.put("text", text);
            c.putNull("logprobs");
        }
        if (finish == null) c.putNull("finish_reason"); else c.put("finish_reason", finish);
        return o;
    }

    void models(HttpCall call) throws IOException {
        ObjectNode o = Json.object();
        o.put("object", "list");
        ArrayNode data = o.putArray("data");
        for (ModelInfo m : gen.catalog.scan()) data.add(model(m));
        call.sendJson(200, o);
    }

    void model(HttpCall call, String name) throws IOException {
        call.sendJson(200, model(gen.catalog.find(name)));
    }

    private static ObjectNode model(ModelInfo m) {
        ObjectNode e = Json.object();
        e.put("id", m.name());
        e.put("object", "model");
        e.put("created", m.modified().getEpochSecond());
        e.put("owned_by", "library");
        return e;
    }
}
