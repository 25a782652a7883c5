package org.jgemma.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The sampling flags of {@code run}, as Ollama options ({@code api/types.go} names). Only flags given on the command
 * line are set, so they override an Ollama model's params layer and leave the rest to it; the defaults shown are
 * what applies when neither sets a value (Ollama's {@code api.DefaultOptions} for Ollama models, llama.cpp's for
 * GGUF files, where they differ).
 */
final class SamplingFlags {
    @Option(names = "--temperature", paramLabel = "T", description = "randomness; 0: greedy, always the likeliest token (default: 0.8)")
    Double temperature;

    @Option(names = "--top-k", paramLabel = "K", description = "sample from the K likeliest tokens; 0: all (default: 40)")
    Integer topK;

    @Option(names = "--top-p", paramLabel = "P", description = "sample from the likeliest tokens whose probabilities add up to P, in [0, 1] (default: 0.9 for Ollama models, 0.95 for files)")
    Double topP;

    @Option(names = "--min-p", paramLabel = "P", description = "drop tokens less likely than P times the likeliest, in [0, 1] (default: 0 for Ollama models, 0.05 for files)")
    Double minP;

    @Option(names = "--repeat-penalty", paramLabel = "X", description = "divide the scores of recently seen tokens by X; 1: off (default: 1)")
    Double repeatPenalty;

    @Option(names = "--repeat-last-n", paramLabel = "N", description = "how many recent tokens the penalty looks at (default: 64)")
    Integer repeatLastN;

    @Option(names = "--seed", paramLabel = "S", description = "random seed, for repeatable output; -1: random (default: -1)")
    Long seed;

    @Option(names = {"-n", "--num-predict"}, paramLabel = "N", description = "most tokens to generate; -1: until the model stops or the context is full (default: -1)")
    Integer numPredict;

    @Option(names = "--stop", paramLabel = "TEXT", description = "stop when the output contains TEXT (repeatable; replaces the model's stop list)")
    List<String> stop;

    /** The flags given, by Ollama option name. */
    Map<String, Object> options() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (temperature != null) m.put("temperature", temperature);
        if (topK != null) m.put("top_k", topK);
        if (topP != null) m.put("top_p", topP);
        if (minP != null) m.put("min_p", minP);
        if (repeatPenalty != null) m.put("repeat_penalty", repeatPenalty);
        if (repeatLastN != null) m.put("repeat_last_n", repeatLastN);
        if (seed != null) m.put("seed", seed);
        if (numPredict != null) m.put("num_predict", numPredict);
        if (stop != null && !stop.isEmpty()) m.put("stop", stop);
        return m;
    }

    /** The flag an Ollama option name comes from, for error messages. */
    static String flag(String option) {
        return switch (option) {
            case "num_predict" -> "--num-predict";
            case "num_ctx" -> "--ctx-size";
            default -> "--" + option.replace('_', '-');
        };
    }
}
