package org.jgemma.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jgemma.api.GenerationOptions;
import org.jgemma.sampling.SamplerConfig;

/**
 * Ollama's model options ({@code options} of a request, the {@code params} layer of a manifest), each null until
 * given. Layers are merged as Ollama merges them (api/types.go {@code DefaultOptions}, then the model's params, then
 * the request's options) and turned into engine {@link GenerationOptions}. Values out of range are refused with a
 * 400 naming the option; options that only tune loading or hardware are accepted and have no effect; sampling
 * features the engine lacks (mirostat, typical_p, tfs_z) are refused unless set to their neutral values.
 */
final class SamplingOptions {
    Double temperature, topP, minP, repeatPenalty, presencePenalty, frequencyPenalty;
    Integer topK, repeatLastN, numPredict, numCtx;
    Long seed;
    List<String> stop;

    /** Load-time and hardware options of Ollama's Runner struct: accepted, no effect here. */
    private static final Set<String> NO_EFFECT = Set.of("num_keep", "num_batch", "num_gpu", "main_gpu", "use_mmap",
            "use_mlock", "numa", "low_vram", "vocab_only", "num_thread", "f16_kv", "logits_all", "embedding_only",
            "penalize_newline", "num_gqa", "rope_frequency_base", "rope_frequency_scale", "mirostat_tau", "mirostat_eta");

    static final int MAX_STOP = 64;
    static final int MAX_PENALTY_WINDOW = 1 << 17;

    /**
     * Reads an Ollama options object. {@code strict}: unknown option names are errors (requests); otherwise they are
     * skipped (manifest params, which may name options of other Ollama versions).
     */
    static SamplingOptions fromOllama(JsonNode options, String where, boolean strict) {
        SamplingOptions o = new SamplingOptions();
        if (options == null || options.isNull()) return o;
        if (!options.isObject()) throw Json.wrongType(where, "an object", options);
        for (Iterator<Map.Entry<String, JsonNode>> it = options.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String k = f.getKey();
            String name = where + "." + k;
            JsonNode v = f.getValue();
            if (v.isNull()) continue;
            switch (k) {
                case "temperature" -> o.temperature = Json.number(options, k, 0, 1000);
                case "top_k" -> o.topK = (int) (long) Json.integer(options, k, 0, 1_000_000);
                case "top_p" -> o.topP = Json.number(options, k, 0, 1);
                case "min_p" -> o.minP = Json.number(options, k, 0, 1);
                case "repeat_penalty" -> o.repeatPenalty = Json.number(options, k, 0, 100);
                case "repeat_last_n" -> o.repeatLastN = (int) (long) Json.integer(options, k, -1, MAX_PENALTY_WINDOW);
                case "presence_penalty" -> o.presencePenalty = Json.number(options, k, -100, 100);
                case "frequency_penalty" -> o.frequencyPenalty = Json.number(options, k, -100, 100);
                case "seed" -> o.seed = Json.integer(options, k, Long.MIN_VALUE, Long.MAX_VALUE);
                case "num_predict" -> o.numPredict = (int) (long) Json.integer(options, k, -2, 1_000_000_000);
                case "num_ctx" -> o.numCtx = (int) (long) Json.integer(options, k, 1, 1 << 24);
                case "stop" -> o.stop = Json.strings(options, k, MAX_STOP);
                case "mirostat" -> {
                    if (Json.integer(options, k, 0, 2) != 0) throw ApiException.unsupported("option '" + name + "' (mirostat sampling)");
                }
                case "typical_p" -> {
                    if (Json.number(options, k, 0, 1) != 1.0) throw ApiException.unsupported("option '" + name + "' (locally typical sampling) other than 1");
                }
                case "tfs_z" -> {
                    if (Json.number(options, k, 0, 100) != 1.0) throw ApiException.unsupported("option '" + name + "' (tail-free sampling) other than 1");
                }
                default -> {
                    if (strict && !NO_EFFECT.contains(k)) throw ApiException.badRequest("unknown option '" + name + "'");
                }
            }
        }
        if (o.repeatPenalty != null && o.repeatPenalty <= 0) throw ApiException.badRequest("option '" + where + ".repeat_penalty' must be > 0");
        return o;
    }

    /** These options over {@code base}: each value given here wins. Returns this. */
    SamplingOptions over(SamplingOptions base) {
        if (temperature == null) temperature = base.temperature;
        if (topP == null) topP = base.topP;
        if (minP == null) minP = base.minP;
        if (repeatPenalty == null) repeatPenalty = base.repeatPenalty;
        if (presencePenalty == null) presencePenalty = base.presencePenalty;
        if (frequencyPenalty == null) frequencyPenalty = base.frequencyPenalty;
        if (topK == null) topK = base.topK;
        if (repeatLastN == null) repeatLastN = base.repeatLastN;
        if (numPredict == null) numPredict = base.numPredict;
        if (numCtx == null) numCtx = base.numCtx;
        if (seed == null) seed = base.seed;
        if (stop == null) stop = base.stop;
        return this;
    }

    /**
     * Engine options, Ollama's defaults for what is not given: temperature 0.8, top_k 40, top_p 0.9, min_p 0,
     * repeat_penalty 1 (off), repeat_last_n 64, seed -1 (random), num_predict -1 (until the end or the context is
     * full). {@code contextSize} is what {@code repeat_last_n: -1} means.
     */
    GenerationOptions build(int contextSize) {
        long s = seed == null || seed < 0 ? SamplerConfig.RANDOM_SEED : seed & 0xFFFFFFFFL;
        if (s == SamplerConfig.RANDOM_SEED && seed != null && seed >= 0) s = 0xFFFFFFFEL; // a fixed seed stays fixed
        int lastN = repeatLastN == null ? 64 : repeatLastN == -1 ? Math.min(contextSize, MAX_PENALTY_WINDOW) : repeatLastN;
        SamplerConfig sc = new SamplerConfig(f(temperature, 0.8), topK == null ? 40 : topK, f(topP, 0.9), f(minP, 0.0), 0, lastN,
                f(repeatPenalty, 1.0), f(frequencyPenalty, 0.0), f(presencePenalty, 0.0), s);
        int max = numPredict == null || numPredict <= 0 ? 0 : numPredict;
        return new GenerationOptions(sc, max, stop == null ? List.of() : stop, true);
    }

    private static float f(Double v, double dflt) {
        return (float) (v == null ? dflt : v);
    }
}
