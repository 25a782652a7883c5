package org.jgemma.ollama;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jgemma.api.GenerationOptions;
import org.jgemma.api.ModelOptions;
import org.jgemma.sampling.SamplerConfig;

/**
 * Ollama's model options ({@code api/types.go Options} and {@code Runner}, by their JSON names) applied to jgemma's
 * options. Used in layers as Ollama does: {@link #defaults()}, then a manifest's params layer, then what the user or
 * the request asks for (later layers win per option).
 *
 * <p>Supported: {@code temperature, top_k, top_p, min_p, repeat_penalty, repeat_last_n, presence_penalty,
 * frequency_penalty, seed, stop, num_predict} (generation) and {@code num_ctx, num_thread} (loading). Ollama's other
 * options ({@code num_keep, typical_p, num_batch, num_gpu, main_gpu, use_mmap, ...}) are accepted and ignored, as
 * Ollama ignores options its runner does not use; names Ollama does not know are an error.
 */
public final class OllamaOptions {
    private OllamaOptions() {}

    /** The options this engine applies. */
    public static final List<String> SUPPORTED = List.of("temperature", "top_k", "top_p", "min_p", "repeat_penalty",
            "repeat_last_n", "presence_penalty", "frequency_penalty", "seed", "stop", "num_predict", "num_ctx", "num_thread");

    /** Ollama options that have no effect here. */
    public static final Set<String> IGNORED = Set.of("num_keep", "typical_p", "num_batch", "num_gpu", "main_gpu",
            "use_mmap", "draft_num_predict", "penalize_newline", "mirostat", "mirostat_tau", "mirostat_eta", "tfs_z",
            "numa", "low_vram", "f16_kv", "vocab_only", "use_mlock", "num_gqa", "rope_frequency_base",
            "rope_frequency_scale");

    /**
     * Ollama's defaults ({@code api.DefaultOptions}): temperature 0.8, top_k 40, top_p 0.9, min_p 0, repeat_last_n 64,
     * repeat_penalty 1 (off), a random seed, num_predict -1 (no limit), stop on end-of-generation tokens.
     */
    public static GenerationOptions defaults() {
        return new GenerationOptions(new SamplerConfig(0.8f, 40, 0.9f, 0f, 0, 64, 1f, 0f, 0f, SamplerConfig.RANDOM_SEED),
                -1, List.of(), true);
    }

    /**
     * {@code base} with {@code options} applied. Values are JSON-like: numbers (any {@link Number}), strings that parse
     * as numbers (from a command line), and for {@code stop} a string or a list of strings.
     *
     * @throws IllegalArgumentException naming the option when a name is unknown or a value has the wrong type or range
     */
    public static GenerationOptions apply(GenerationOptions base, Map<String, ?> options) {
        GenerationOptions g = base;
        SamplerConfig s = base.sampling();
        for (Map.Entry<String, ?> e : options.entrySet()) {
            String k = e.getKey();
            Object v = e.getValue();
            switch (k) {
                case "temperature" -> s = s.withTemperature(number(k, v, 0, Double.MAX_VALUE).floatValue());
                case "top_k" -> s = s.withTopK(integer(k, v, 0, Integer.MAX_VALUE));
                case "top_p" -> s = s.withTopP(number(k, v, 0, 1).floatValue());
                case "min_p" -> s = s.withMinP(number(k, v, 0, 1).floatValue());
                case "repeat_penalty" -> s = s.withPenalties(s.penaltyLastN(), positive(k, v), s.frequencyPenalty(), s.presencePenalty());
                case "repeat_last_n" -> s = s.withPenalties(integer(k, v, 0, 1 << 20), s.repeatPenalty(), s.frequencyPenalty(), s.presencePenalty());
                case "presence_penalty" -> s = s.withPenalties(s.penaltyLastN(), s.repeatPenalty(), s.frequencyPenalty(),
                        number(k, v, -Double.MAX_VALUE, Double.MAX_VALUE).floatValue());
                case "frequency_penalty" -> s = s.withPenalties(s.penaltyLastN(), s.repeatPenalty(),
                        number(k, v, -Double.MAX_VALUE, Double.MAX_VALUE).floatValue(), s.presencePenalty());
                case "seed" -> {
                    long seed = number(k, v, Long.MIN_VALUE, Long.MAX_VALUE).longValue();
                    s = s.withSeed(seed < 0 ? SamplerConfig.RANDOM_SEED : seed);
                }
                case "num_predict" -> g = g.withMaxTokens(integer(k, v, -2, Integer.MAX_VALUE));
                case "stop" -> g = g.withStop(strings(k, v).toArray(String[]::new));
                case "num_ctx", "num_thread" -> integer(k, v, 0, Integer.MAX_VALUE); // loading options: checked here, used by applyRunner
                default -> {
                    if (!IGNORED.contains(k)) throw new IllegalArgumentException("unknown option '" + k + "'; known: " + String.join(", ", SUPPORTED));
                }
            }
        }
        return g.withSampling(s);
    }

    /** {@code base} with the loading options {@code num_ctx} (context tokens) and {@code num_thread} applied. */
    public static ModelOptions applyRunner(ModelOptions base, Map<String, ?> options) {
        ModelOptions m = base;
        if (options.containsKey("num_ctx")) m = m.withContextSize(integer("num_ctx", options.get("num_ctx"), 0, Integer.MAX_VALUE));
        if (options.containsKey("num_thread")) m = m.withThreads(integer("num_thread", options.get("num_thread"), 0, Integer.MAX_VALUE));
        return m;
    }

    /**
     * A value typed in as text ({@code /set parameter NAME VALUE...}, Ollama's {@code api.FormatParams}): {@code stop}
     * takes every word, the others one number.
     */
    public static Object parse(String name, List<String> words) {
        if (words.isEmpty()) throw new IllegalArgumentException("option '" + name + "' needs a value");
        if (name.equals("stop")) return List.copyOf(words);
        if (words.size() > 1) throw new IllegalArgumentException("option '" + name + "' takes one value, got " + words.size());
        if (!SUPPORTED.contains(name) && !IGNORED.contains(name)) {
            throw new IllegalArgumentException("unknown option '" + name + "'; known: " + String.join(", ", SUPPORTED));
        }
        String w = words.getFirst();
        Object v = w;
        try {
            v = Long.parseLong(w);
        } catch (NumberFormatException e) {
            try {
                v = Double.parseDouble(w);
            } catch (NumberFormatException e2) {
                // stays text: apply says what it expected
            }
        }
        apply(defaults(), Map.of(name, v)); // checks type and range now, with the option's name
        return v;
    }

    private static Number number(String k, Object v, double min, double max) {
        double d;
        if (v instanceof Number n) {
            d = n.doubleValue();
        } else if (v instanceof String str) {
            try {
                d = Double.parseDouble(str.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("option '" + k + "' must be a number, got '" + str + "'");
            }
        } else {
            throw new IllegalArgumentException("option '" + k + "' must be a number, got " + describe(v));
        }
        if (!Double.isFinite(d) || d < min || d > max) {
            throw new IllegalArgumentException("option '" + k + "' must be " + range(min, max) + ", got " + fmt(d));
        }
        return d;
    }

    private static int integer(String k, Object v, int min, int max) {
        double d = number(k, v, min, max).doubleValue();
        if (d != Math.rint(d)) throw new IllegalArgumentException("option '" + k + "' must be a whole number, got " + fmt(d));
        return (int) d;
    }

    private static float positive(String k, Object v) {
        double d = number(k, v, 0, Double.MAX_VALUE).doubleValue();
        if (d == 0) throw new IllegalArgumentException("option '" + k + "' must be > 0, got 0");
        return (float) d;
    }

    private static List<String> strings(String k, Object v) {
        List<String> out = new ArrayList<>();
        if (v instanceof String str) out.add(str);
        else if (v instanceof List<?> l) {
            for (Object o : l) {
                if (!(o instanceof String str)) throw new IllegalArgumentException("option '" + k + "' must be strings, got " + describe(o));
                out.add(str);
            }
        } else throw new IllegalArgumentException("option '" + k + "' must be a string or a list of strings, got " + describe(v));
        for (String s : out) if (s.isEmpty()) throw new IllegalArgumentException("option '" + k + "': empty stop string");
        return out;
    }

    private static String describe(Object v) {
        return v == null ? "null" : v.getClass().getSimpleName().toLowerCase(Locale.ROOT) + " " + v;
    }

    private static String range(double min, double max) {
        if (max >= Integer.MAX_VALUE) return min <= Integer.MIN_VALUE ? "a finite number" : "≥ " + fmt(min);
        return "in [" + fmt(min) + ", " + fmt(max) + "]";
    }

    private static String fmt(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
}
