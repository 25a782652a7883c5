package org.jgemma.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jgemma.api.ChatSession;
import org.jgemma.api.GenerationOptions;
import org.jgemma.api.GenerationResult;
import org.jgemma.api.Model;
import org.jgemma.api.Session;
import org.jgemma.api.TokenListener;
import org.jgemma.ollama.OllamaStore;
import org.jgemma.sampling.SamplerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jgemma run [MODEL] [PROMPT]}: one answer to PROMPT, or a chat (like {@code ollama run}) when there is no
 * prompt: interactive on a terminal, else one turn per line of standard input. MODEL is a GGUF file or an Ollama
 * reference ({@code gemma3:4b-it-q4_K_M}); without it the tiny random-weights model inside the jar is used.
 */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Generate text or chat with a model.")
final class RunCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "0..*", paramLabel = "[MODEL] [PROMPT]",
            description = "a .gguf file or an Ollama model such as gemma3:4b-it-q4_K_M (default: the embedded tiny model),"
                    + " then the prompt (default: chat)")
    List<String> args = List.of();

    @Mixin
    CommonOptions common;

    @Option(names = "--temperature", defaultValue = "0.8", description = "0: greedy (default: ${DEFAULT-VALUE})")
    float temperature;

    @Option(names = "--top-k", defaultValue = "40") int topK;
    @Option(names = "--top-p", defaultValue = "0.95") float topP;
    @Option(names = "--min-p", defaultValue = "0.05") float minP;
    @Option(names = "--repeat-penalty", defaultValue = "1.0") float repeatPenalty;
    @Option(names = "--repeat-last-n", defaultValue = "64") int repeatLastN;

    @Option(names = "--seed", defaultValue = "-1", description = "RNG seed (-1: random)")
    long seed;

    @Option(names = {"-n", "--num-predict"}, defaultValue = "-1", description = "most tokens to generate (-1: until the end or the context is full)")
    int numPredict;

    @Option(names = {"-c", "--ctx-size"}, defaultValue = "0", description = "context size in tokens (0: the model's, at most 4096)")
    int ctxSize;

    @Option(names = "--system", description = "system prompt for the chat")
    String system;

    @Option(names = "--raw", description = "no chat template: the prompt is continued as plain text")
    boolean raw;

    @Option(names = "--parse-special", description = "in chat messages, turn special-token text such as <end_of_turn> into"
            + " control tokens (as llama.cpp's server does); by default it stays text, so a message cannot end its turn")
    boolean parseSpecial;

    @Option(names = "--stop", description = "stop string (repeatable)")
    List<String> stop = List.of();

    /** jgemma's inherited {@code --verbose} also prints load time and prompt / generation speed here. */
    @picocli.CommandLine.ParentCommand
    Main parent;

    private boolean verbose;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        verbose = (parent != null && parent.verbose) || spec.commandLine().getParseResult().hasMatchedOption("--verbose");
        Path modelPath;
        String label;
        String prompt = null;
        List<String> rest = args;
        if (!rest.isEmpty() && looksLikeModel(rest.getFirst())) {
            modelPath = Cli.resolveModel(rest.getFirst());
            label = Cli.label(rest.getFirst(), modelPath);
            rest = rest.subList(1, rest.size());
        } else {
            label = "embedded tiny model";
            modelPath = Cli.embeddedModel();
            err.println("note: no model given; using the embedded tiny test model (random weights: its output is gibberish)");
        }
        if (!rest.isEmpty()) prompt = String.join(" ", rest);

        GenerationOptions options = new GenerationOptions(new SamplerConfig(temperature, topK, topP, minP, 0, repeatLastN,
                repeatPenalty, 0f, 0f, seed < 0 ? SamplerConfig.RANDOM_SEED : seed), numPredict, stop, true);
        try (Model model = Cli.open(modelPath, common.modelOptions(ctxSize), err)) {
            if (verbose) {
                err.printf(Locale.ROOT, "loaded %s on %s (%s) in %.2f s, context %d%n", label, model.backendName(),
                        model.deviceName(), model.loadNanos() / 1e9, model.contextSize());
            }
            TokenListener print = TokenListener.text(s -> {
                out.print(s);
                out.flush();
            });
            if (prompt != null) {
                GenerationResult r;
                if (raw) {
                    try (Session s = model.newSession()) {
                        r = s.generate(prompt, options, print);
                    }
                } else {
                    try (ChatSession chat = model.newChat(system, parseSpecial)) {
                        r = chat.send(prompt, options, print);
                    }
                }
                out.println();
                out.flush(); // the text line ends before the stats line on stderr
                report(r, err);
                return 0;
            }
            chat(model, options, print, out, err);
            return 0;
        }
    }

    /**
     * Whether the first argument names the model rather than starting the prompt: a {@code .gguf} name, an existing
     * file, a {@code name:tag} Ollama reference (an error later if no store has it), or a bare name some Ollama store
     * holds ({@code gemma3} for {@code gemma3:latest}). Anything else is prompt text for the embedded model.
     */
    private static boolean looksLikeModel(String arg) throws java.io.IOException {
        if (arg.toLowerCase(Locale.ROOT).endsWith(".gguf")) return true;
        try {
            if (Files.isRegularFile(Path.of(arg))) return true;
        } catch (java.nio.file.InvalidPathException e) {
            return false;
        }
        if (!OllamaStore.looksLikeReference(arg)) return false;
        if (arg.contains(":")) return true;
        try {
            return OllamaStore.standard().resolve(arg).isPresent();
        } catch (IllegalArgumentException e) { // more path parts than a reference has: prompt text
            return false;
        }
    }

    private void chat(Model model, GenerationOptions options, TokenListener print, PrintWriter out, PrintWriter err) throws Exception {
        boolean terminal = System.console() != null && System.console().isTerminal();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (ChatSession chat = model.newChat(system, parseSpecial)) {
            if (terminal) out.println("Chat with " + model.backendName() + " backend. /bye to quit, /clear to start over.");
            while (true) {
                if (terminal) {
                    out.print(">>> ");
                    out.flush();
                }
                String line = in.readLine();
                if (line == null || line.strip().equals("/bye")) break;
                if (line.isBlank()) continue;
                if (line.strip().equals("/clear")) {
                    chat.reset();
                    continue;
                }
                GenerationResult r = chat.send(line, options, print);
                out.println();
                if (terminal) out.println();
                out.flush(); // the text line ends before the stats line on stderr
                report(r, err);
            }
        }
    }

    private void report(GenerationResult r, PrintWriter err) {
        if (!verbose) return;
        err.printf(Locale.ROOT, "prompt: %d tokens, %.2f tokens/s; generation: %d tokens, %.2f tokens/s; stop: %s%n",
                r.promptTokens(), r.promptTokensPerSecond(), r.tokens().length, r.generationTokensPerSecond(),
                r.stopReason().name().toLowerCase(Locale.ROOT));
    }
}
