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
import org.jgemma.sampling.SamplerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jgemma run [MODEL] [PROMPT]}: one answer to PROMPT, or a chat (like {@code ollama run}) when there is no
 * prompt: interactive on a terminal, else one turn per line of standard input. Without MODEL the tiny random-weights
 * model inside the jar is used.
 */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Generate text or chat with a model.")
final class RunCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "0..*", paramLabel = "[MODEL] [PROMPT]",
            description = "a .gguf file (default: the embedded tiny model), then the prompt (default: chat)")
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
        String prompt = null;
        List<String> rest = args;
        if (!rest.isEmpty() && looksLikeModel(rest.getFirst())) {
            modelPath = Cli.requireFile(rest.getFirst());
            rest = rest.subList(1, rest.size());
        } else {
            modelPath = Cli.embeddedModel();
            err.println("note: no model given; using the embedded tiny test model (random weights: its output is gibberish)");
        }
        if (!rest.isEmpty()) prompt = String.join(" ", rest);

        GenerationOptions options = new GenerationOptions(new SamplerConfig(temperature, topK, topP, minP, 0, repeatLastN,
                repeatPenalty, 0f, 0f, seed < 0 ? SamplerConfig.RANDOM_SEED : seed), numPredict, stop, true);
        try (Model model = Cli.open(modelPath, common.modelOptions(ctxSize), err)) {
            if (verbose) {
                err.printf(Locale.ROOT, "loaded %s on %s (%s) in %.2f s, context %d%n", modelPath.getFileName(), model.backendName(),
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
                    try (ChatSession chat = model.newChat(system)) {
                        r = chat.send(prompt, options, print);
                    }
                }
                out.println();
                report(r, err);
                return 0;
            }
            chat(model, options, print, out, err);
            return 0;
        }
    }

    private static boolean looksLikeModel(String arg) {
        return arg.toLowerCase(Locale.ROOT).endsWith(".gguf") || Files.isRegularFile(Path.of(arg));
    }

    private void chat(Model model, GenerationOptions options, TokenListener print, PrintWriter out, PrintWriter err) throws Exception {
        boolean terminal = System.console() != null && System.console().isTerminal();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (ChatSession chat = model.newChat(system)) {
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
