package org.jgemma.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jgemma.api.ChatSession;
import org.jgemma.api.GenerationOptions;
import org.jgemma.api.GenerationResult;
import org.jgemma.api.Model;
import org.jgemma.api.ModelOptions;
import org.jgemma.api.Session;
import org.jgemma.api.TokenListener;
import org.jgemma.chat.ChatMessage;
import org.jgemma.ollama.ModelReference;
import org.jgemma.ollama.OllamaOptions;
import org.jgemma.ollama.OllamaStore;
import org.jgemma.vision.ImagePreprocessor;
import org.jgemma.vision.RgbImage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jgemma run [MODEL] [PROMPT]}: one answer to PROMPT, or a chat (like {@code ollama run}) when there is no
 * prompt: interactive on a terminal ({@link ChatRepl}), else one turn per line of standard input. MODEL is a GGUF
 * file or an Ollama reference ({@code gemma3:4b-it-q4_K_M}, whose params, system and template layers apply as in
 * Ollama); with no MODEL at all the tiny random-weights model inside the jar is used.
 */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Generate text or chat with a model, like `ollama run`.",
                "Without PROMPT (and without --file): an interactive chat on a terminal (/? for its commands), else one"
                        + " reply per line of standard input."},
        footer = {"", "Sampling defaults come from the Ollama model's params (`jgemma show MODEL`), else Ollama's defaults;"
                + " for a .gguf file llama.cpp's. Flags override them."})
final class RunCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "0..*", paramLabel = "[MODEL] [PROMPT]",
            description = {"MODEL: a .gguf file or an Ollama model such as gemma3:4b-it-q4_K_M (none: the embedded tiny"
                    + " test model, random weights); PROMPT: the words of the prompt (none: chat)."})
    List<String> args = List.of();

    @Option(names = {"-f", "--file"}, paramLabel = "F", description = "read the prompt from file F; - reads standard input to its end")
    String file;

    @Mixin
    SamplingFlags sampling;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", description = "context size in tokens (default: the Ollama model's num_ctx, else the model's training context, at most 4096)")
    Integer ctxSize;

    @Option(names = "--system", paramLabel = "TEXT", description = "system prompt (default: the Ollama model's system message, if any)")
    String system;

    @Option(names = "--raw", description = "no chat template: the prompt is continued as plain text")
    boolean raw;

    @Option(names = "--parse-special", description = "in chat messages, turn special-token text such as <end_of_turn> into"
            + " control tokens (as llama.cpp's server does); by default it stays text, so a message cannot end its turn")
    boolean parseSpecial;

    @Option(names = "--image", paramLabel = "F", description = "show image file F (PNG, JPEG, WebP, BMP, GIF) with the prompt; repeatable")
    List<Path> images = List.of();

    @Option(names = "--mmproj", paramLabel = "FILE", description = "the vision projector (llama.cpp's mmproj GGUF); default: the"
            + " one inside an Ollama model, else the one *mmproj*.gguf next to the model file")
    Path mmproj;

    @Option(names = "--image-preprocess", paramLabel = "pad|stretch", description = "how a non-square image is fitted: pad keeps"
            + " the aspect ratio on black (llama.cpp, Ollama; default), stretch distorts it to the square (HF transformers)")
    String imagePreprocess = "pad";

    @Mixin
    CommonOptions common;

    /** jgemma's inherited {@code --verbose} also prints load time and prompt / generation speed here. */
    @picocli.CommandLine.ParentCommand
    Main parent;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        boolean verbose = (parent != null && parent.verbose) || spec.commandLine().getParseResult().hasMatchedOption("--verbose");
        try { // the flags are checked before anything loads: a bad one is a bad command line (exit 2)
            Settings flags = new Settings(ModelReference.ofFile(Path.of("none")), sampling.options(), ctxSize, system, verbose);
            flags.generationOptions();
            flags.modelOptions(common);
            ImagePreprocessor.Mode.parse(imagePreprocess);
            if (!images.isEmpty() && raw) throw new IllegalArgumentException("--image needs the chat template; drop --raw");
            if (mmproj != null && !Files.isRegularFile(mmproj)) throw new IllegalArgumentException("--mmproj " + mmproj + ": no such file");
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        List<String> rest = args;
        ModelReference ref;
        if (!rest.isEmpty() && looksLikeModel(rest.getFirst())) {
            ref = ModelReference.resolve(rest.getFirst());
            rest = rest.subList(1, rest.size());
        } else {
            ref = embedded();
            err.println("note: no model given; using the embedded tiny test model (random weights: its output is gibberish)");
        }
        String prompt = rest.isEmpty() ? null : String.join(" ", rest);
        if (file != null) {
            if (prompt != null) throw new IllegalArgumentException("give the prompt as words or with --file, not both");
            prompt = file.equals("-") ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                    : Files.readString(Path.of(file), StandardCharsets.UTF_8);
        }
        Settings settings = new Settings(ref, sampling.options(), ctxSize, system, verbose);
        settings.mmproj = mmproj;
        settings.imagePreprocess = ImagePreprocessor.Mode.parse(imagePreprocess);
        List<RgbImage> shown = new java.util.ArrayList<>();
        for (Path p : images) shown.add(RgbImage.read(p)); // a bad image fails here, before the model loads
        if (!shown.isEmpty() && prompt == null) throw new IllegalArgumentException("--image needs a PROMPT (or --file) to go with it");
        if (prompt != null) {
            try (Model model = settings.open(common, err)) {
                if (!shown.isEmpty()) model.vision(); // a missing or bad projector fails before generating
                this.shownImages = shown;
                oneShot(model, settings, prompt, out, err);
                return 0;
            }
        }
        Model model = settings.open(common, err); // the chat owns and closes it (/load replaces it)
        if (Cli.onTerminal()) return ChatRepl.interactive(model, settings, parseSpecial, common, out, err);
        return ChatRepl.lines(model, settings, parseSpecial, common, out, err);
    }

    private List<RgbImage> shownImages = List.of();

    private void oneShot(Model model, Settings settings, String prompt, PrintWriter out, PrintWriter err) {
        TokenListener print = TokenListener.text(s -> {
            out.print(s);
            out.flush();
        });
        GenerationOptions options = settings.generationOptions();
        GenerationResult r;
        if (raw) {
            try (Session s = model.newSession()) {
                r = s.generate(prompt, options, print);
            }
        } else {
            try (ChatSession chat = model.newChat(settings.system(), parseSpecial)) {
                r = shownImages.isEmpty() ? chat.send(prompt, options, print)
                        : chat.send(new ChatMessage("user", prompt, shownImages), options, print);
            }
        }
        out.println();
        out.flush(); // the text line ends before the stats line on stderr
        if (settings.verbose) err.println(stats(r));
    }

    private static ModelReference embedded() throws java.io.IOException {
        Path p = Cli.embeddedModel();
        return new ModelReference("embedded tiny model", p, Map.of(), null, null, List.of(), null);
    }

    /**
     * Whether the first argument names the model rather than starting the prompt: anything that could be a file
     * name or an Ollama name (no spaces) is taken as MODEL, and must then resolve; only words with spaces, or no
     * argument at all, leave the model to the embedded one.
     */
    static boolean looksLikeModel(String arg) {
        if (arg.isBlank()) return false;
        if (arg.toLowerCase(Locale.ROOT).endsWith(".gguf") || arg.contains("/") || arg.contains(java.io.File.separator)) return true;
        try {
            if (Files.exists(Path.of(arg))) return true;
        } catch (java.nio.file.InvalidPathException e) {
            return false;
        }
        return OllamaStore.looksLikeReference(arg);
    }

    /** llama.cpp-style stats line ({@code --verbose}, {@code /set verbose}). */
    static String stats(GenerationResult r) {
        return String.format(Locale.ROOT, "prompt: %d tokens, %.2f tokens/s; generation: %d tokens, %.2f tokens/s; stop: %s",
                r.promptTokens(), r.promptTokensPerSecond(), r.tokens().length, r.generationTokensPerSecond(),
                r.stopReason().name().toLowerCase(Locale.ROOT));
    }

    /**
     * What a run uses, in Ollama's layers: defaults (Ollama's for Ollama models, llama.cpp's for files), the model's
     * params, then the user's options (flags, {@code /set parameter}); the system prompt is the user's, else the
     * model's system layer. Mutable by the chat's {@code /set} commands.
     */
    static final class Settings {
        ModelReference ref;
        final Map<String, Object> user = new HashMap<>();
        Integer ctxSize;
        String system;
        boolean verbose;
        Path mmproj;                                  // --mmproj: the vision projector of ref's model (null: found by the model)
        ImagePreprocessor.Mode imagePreprocess = ImagePreprocessor.Mode.PAD;

        Settings(ModelReference ref, Map<String, Object> flags, Integer ctxSize, String system, boolean verbose) {
            this.ref = ref;
            this.user.putAll(flags);
            this.ctxSize = ctxSize;
            this.system = system;
            this.verbose = verbose;
        }

        String system() {
            return system != null ? system : ref.system();
        }

        GenerationOptions generationOptions() {
            GenerationOptions base = ref.isOllama() ? OllamaOptions.defaults() : GenerationOptions.defaults().withMaxTokens(-1);
            try {
                base = OllamaOptions.apply(base, ref.params());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(ref.manifest() + ": params layer: " + e.getMessage(), e);
            }
            try {
                return OllamaOptions.apply(base, user);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(flagNames(e.getMessage()), e);
            }
        }

        ModelOptions modelOptions(CommonOptions common) {
            ModelOptions m = OllamaOptions.applyRunner(common.modelOptions(0), ref.params());
            Integer threads = common.threads();
            if (threads != null) m = m.withThreads(threads); // --threads over the model's num_thread
            m = OllamaOptions.applyRunner(m, user); // /set parameter num_ctx | num_thread
            if (ctxSize != null) {
                if (ctxSize < 0) throw new IllegalArgumentException("--ctx-size must be ≥ 0 (0: the model's, at most 4096), got " + ctxSize);
                m = m.withContextSize(ctxSize);
            }
            return m;
        }

        Model open(CommonOptions common, PrintWriter err) throws java.io.IOException {
            Model m = Cli.open(ref.path(), modelOptions(common), err);
            if (mmproj != null) m.useMmproj(mmproj);
            m.setImagePreprocess(imagePreprocess);
            if (verbose) {
                err.printf(Locale.ROOT, "loaded %s on %s (%s) in %.2f s, context %d%n", ref.name(), m.backendName(),
                        m.deviceName(), m.loadNanos() / 1e9, m.contextSize());
            }
            return m;
        }

        private static final Pattern OPTION = Pattern.compile("option '([a-z_]+)'");

        /** "option 'top_p' must be ..." as "--top-p must be ...": errors in the user's words. */
        private static String flagNames(String message) {
            Matcher m = OPTION.matcher(message);
            return m.replaceAll(r -> Matcher.quoteReplacement(SamplingFlags.flag(r.group(1))));
        }
    }
}
