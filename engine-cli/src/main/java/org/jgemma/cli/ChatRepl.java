package org.jgemma.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jgemma.api.ChatSession;
import org.jgemma.chat.ChatMessage;
import org.jgemma.api.GenerationResult;
import org.jgemma.api.Model;
import org.jgemma.api.StopReason;
import org.jgemma.api.TokenListener;
import org.jgemma.ollama.ModelReference;
import org.jgemma.ollama.OllamaOptions;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * The chat of {@code jgemma run MODEL}, with {@code ollama run}'s commands and keys (Ollama cmd/interactive.go):
 * {@code /? /help, /set parameter|system|verbose|quiet|history|nohistory, /show info|parameters|template|system|license,
 * /clear, /load MODEL, /save FILE, /bye}; {@code """} starts and ends a multi-line message. On a terminal it reads
 * with JLine (line editing, history in {@code ~/.jgemma/history}): Ctrl-C stops a reply and keeps the conversation,
 * Ctrl-C clears the line being typed, a second Ctrl-C at an empty prompt exits, Ctrl-D exits. Without a terminal
 * each line of standard input is one message (commands work too; their messages go to stderr, replies to stdout).
 */
final class ChatRepl {
    private final RunCommand.Settings settings;
    private final boolean parseSpecial;
    private final CommonOptions common;
    private final PrintWriter out;   // replies
    private final PrintWriter info;  // command messages: stdout on a terminal, stderr when stdout is the replies only
    private final PrintWriter err;
    private Model model;
    private ChatSession chat;
    private LineReader reader;       // null without a terminal
    private volatile ChatSession generating;
    private List<ChatMessage> conversation; // set by /set system until the next message
    private boolean multimodal;      // the model takes images: image paths in a message are attached (ollama run's opts.MultiModal)

    private ChatRepl(Model model, RunCommand.Settings settings, boolean parseSpecial, CommonOptions common, PrintWriter out,
                     PrintWriter info, PrintWriter err) {
        this.model = model;
        this.settings = settings;
        this.parseSpecial = parseSpecial;
        this.common = common;
        this.out = out;
        this.info = info;
        this.err = err;
        this.chat = model.newChat(settings.system(), parseSpecial);
        this.multimodal = model.hasVision();
    }

    /** The interactive chat on the terminal; returns the exit code. */
    static int interactive(Model model, RunCommand.Settings settings, boolean parseSpecial, CommonOptions common,
                           PrintWriter out, PrintWriter err) throws IOException {
        ChatRepl repl = new ChatRepl(model, settings, parseSpecial, common, out, out, err);
        // JLine's own signal handling (nativeSignals) swaps the process's SIGINT handler at every readLine, and a
        // Ctrl-C landing in that window met the JVM's default handler (exit 130). One handler for the whole chat
        // instead: SIGINT (and SIGWINCH) go to the terminal, whose current handler is the line reader's while it
        // reads and ours otherwise: stop the reply, or (between prompts) count as a Ctrl-C at an empty prompt.
        try (Terminal terminal = TerminalBuilder.builder().system(true).nativeSignals(false).build()) {
            if (terminal.getWidth() <= 0) terminal.setSize(new org.jline.terminal.Size(80, 24)); // a pty nobody sized (ssh -T, expect)
            Object intr = org.jline.utils.Signals.register("INT", () -> terminal.raise(Terminal.Signal.INT));
            Object winch = org.jline.utils.Signals.register("WINCH", () -> terminal.raise(Terminal.Signal.WINCH));
            Path history = Path.of(System.getProperty("user.home"), ".jgemma", "history");
            try {
                Files.createDirectories(history.getParent());
            } catch (IOException e) {
                // no history file then
            }
            repl.reader = LineReaderBuilder.builder().terminal(terminal).appName("jgemma")
                    .variable(LineReader.HISTORY_FILE, history)
                    .variable(LineReader.SECONDARY_PROMPT_PATTERN, "... ")
                    .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true) // "!" is text, not history expansion
                    .option(LineReader.Option.INSERT_TAB, true)
                    .build();
            terminal.handle(Terminal.Signal.INT, s -> {
                ChatSession g = repl.generating;
                if (g != null) g.cancel();
                else repl.interruptedBetweenPrompts = true;
            });
            try {
                out.println(repl.banner());
                out.flush();
                repl.loop(repl::readInteractive);
            } finally {
                if (intr != null) org.jline.utils.Signals.unregister("INT", intr);
                if (winch != null) org.jline.utils.Signals.unregister("WINCH", winch);
            }
            return 0;
        } finally {
            repl.close();
        }
    }

    /** One message per line of standard input (no terminal). */
    static int lines(Model model, RunCommand.Settings settings, boolean parseSpecial, CommonOptions common, PrintWriter out,
                     PrintWriter err) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        ChatRepl repl = new ChatRepl(model, settings, parseSpecial, common, out, err, err);
        try {
            repl.loop(prompt -> in.readLine());
        } finally {
            repl.close();
        }
        return 0;
    }

    private String banner() {
        return "Chatting with " + settings.ref.name() + " (" + model.backendName() + ", context " + model.contextSize()
                + " tokens). Send a message, /? for help, /bye or Ctrl-D to exit.";
    }

    @FunctionalInterface
    private interface Input {
        /** The next line, or null at the end of input. */
        String read(String prompt) throws IOException;
    }

    private boolean lastInterrupted;
    private volatile boolean interruptedBetweenPrompts;

    /** The next line from the terminal; null at Ctrl-D or at a second Ctrl-C on an empty prompt. */
    private String readInteractive(String prompt) {
        while (true) {
            if (interruptedBetweenPrompts) { // Ctrl-C after a reply ended and before the prompt was back
                interruptedBetweenPrompts = false;
                if (lastInterrupted) return null;
                lastInterrupted = true;
                out.println("Use Ctrl + d or /bye to exit.");
                out.flush();
            }
            try {
                String line = reader.readLine(prompt);
                lastInterrupted = false;
                return line;
            } catch (UserInterruptException e) {
                if (!e.getPartialLine().isEmpty()) {
                    lastInterrupted = false; // Ctrl-C with text: the text is dropped, the prompt comes back
                    if (!prompt.equals(">>> ")) return INTERRUPTED;
                    continue;
                }
                if (lastInterrupted) return null;
                lastInterrupted = true;
                out.println("Use Ctrl + d or /bye to exit.");
                out.flush();
                if (!prompt.equals(">>> ")) return INTERRUPTED;
            } catch (EndOfFileException e) {
                out.println(); // Ctrl-D: end the prompt line before the shell's
                out.flush();
                return null;
            }
        }
    }

    /** Returned by the reader when Ctrl-C abandons a multi-line message. */
    private static final String INTERRUPTED = new String("\u0003");

    private void loop(Input input) throws IOException {
        StringBuilder multi = null;
        boolean multiSystem = false;
        while (true) {
            String line = input.read(multi == null ? ">>> " : "... ");
            if (line == null) return;
            if (line == INTERRUPTED) {
                multi = null;
                continue;
            }
            if (multi != null) { // inside """ ... """
                int end = line.indexOf("\"\"\"");
                if (end < 0) {
                    multi.append(line).append('\n');
                    continue;
                }
                multi.append(line, 0, end);
                String text = multi.toString();
                multi = null;
                if (multiSystem) {
                    setSystem(text);
                    continue;
                }
                send(text);
                continue;
            }
            String t = line.strip();
            if (t.startsWith("\"\"\"")) {
                String rest = t.substring(3);
                int end = rest.indexOf("\"\"\"");
                if (end >= 0) {
                    send(rest.substring(0, end));
                } else {
                    multi = new StringBuilder(rest.isEmpty() ? "" : rest + "\n");
                    multiSystem = false;
                }
                continue;
            }
            if (t.startsWith("/set system")) {
                String rest = t.substring("/set system".length()).strip();
                if (rest.startsWith("\"\"\"")) {
                    rest = rest.substring(3);
                    int end = rest.indexOf("\"\"\"");
                    if (end < 0) {
                        multi = new StringBuilder(rest.isEmpty() ? "" : rest + "\n");
                        multiSystem = true;
                        continue;
                    }
                    rest = rest.substring(0, end);
                }
                if (rest.isEmpty()) {
                    usageSet();
                    continue;
                }
                setSystem(rest);
                continue;
            }
            if (t.isEmpty()) continue;
            if (t.startsWith("/") && !(multimodal && InlineImages.startsWithPath(t))) { // "/tmp/a.png what is it?" is a message
                if (!command(t)) return;
                continue;
            }
            send(line);
        }
    }

    private void send(String text) {
        if (text.isBlank()) return;
        ChatMessage message = ChatMessage.user(text);
        if (multimodal) { // image paths typed in the message, as ollama run (cmd/interactive.go extractFileData)
            InlineImages.Message m;
            try {
                m = InlineImages.extract(text);
            } catch (InlineImages.InlineImageException e) {
                err.println("error: " + e.getMessage());
                err.flush();
                return;
            }
            for (String p : m.paths()) err.println("Added image '" + p + "'");
            err.flush();
            message = new ChatMessage("user", m.text(), m.images());
        }
        TokenListener print = TokenListener.text(s -> {
            out.print(s);
            out.flush();
        });
        GenerationResult r;
        generating = chat;
        try {
            if (conversation != null) {
                List<ChatMessage> all = new ArrayList<>(conversation);
                all.add(message);
                r = chat.send(all, settings.generationOptions(), print);
                conversation = null; // the chat's history now (kept when the send fails)
            } else {
                r = chat.send(message, settings.generationOptions(), print);
            }
        } catch (org.jgemma.api.JGemmaException | java.io.UncheckedIOException e) {
            // a turn that cannot run (a broken vision projector, a message longer than the context): one line, and the
            // chat goes on with its conversation as it was (ChatSession leaves the history unchanged on failure)
            err.println("error: " + Main.describe(e));
            err.flush();
            return;
        } finally {
            generating = null;
        }
        out.println();
        if (reader != null) out.println(); // a blank line between the reply and the next prompt, as ollama run
        out.flush();
        if (settings.verbose) {
            err.println(RunCommand.stats(r));
            err.flush();
        }
        if (r.stopReason() == StopReason.CANCELLED) {
            info.println("(stopped; the conversation keeps the reply so far)");
            info.flush();
        }
    }

    /** A slash command; false to exit. */
    private boolean command(String line) throws IOException {
        List<String> a = Arrays.asList(line.split("\\s+"));
        String cmd = a.getFirst();
        switch (cmd) {
            case "/bye", "/exit" -> {
                return false;
            }
            case "/?", "/help" -> {
                if (a.size() > 1 && a.get(1).replace("/", "").equals("set")) usageSet();
                else if (a.size() > 1 && a.get(1).replace("/", "").equals("show")) usageShow();
                else if (a.size() > 1 && a.get(1).startsWith("shortcut")) usageShortcuts();
                else usage();
            }
            case "/clear" -> {
                chat.reset();
                String sys = settings.system(); // Ollama: the messages become just the current system message
                conversation = new ArrayList<>();
                if (sys != null && !sys.isEmpty()) conversation.add(ChatMessage.system(sys));
                info.println("Cleared session context");
            }
            case "/set" -> set(a);
            case "/show" -> show(a);
            case "/load" -> {
                if (a.size() != 2) info.println("Usage:\n  /load <model>");
                else load(a.get(1));
            }
            case "/save" -> {
                if (a.size() != 2) info.println("Usage:\n  /save <file>");
                else save(Path.of(a.get(1)));
            }
            default -> info.println("Unknown command '" + cmd + "'. Type /? for help");
        }
        info.flush();
        return true;
    }

    private void set(List<String> a) {
        if (a.size() < 2) {
            usageSet();
            return;
        }
        switch (a.get(1)) {
            case "parameter" -> {
                if (a.size() < 4) {
                    usageParameters();
                    return;
                }
                String name = a.get(2);
                List<String> values = a.subList(3, a.size());
                Object v;
                try {
                    v = OllamaOptions.parse(name, values);
                } catch (IllegalArgumentException e) {
                    info.println("Couldn't set parameter: " + e.getMessage());
                    return;
                }
                Object old = settings.user.put(name, v);
                if (name.equals("num_ctx")) settings.ctxSize = null; // over --ctx-size now
                info.println("Set parameter '" + name + "' to '" + String.join(", ", values) + "'");
                if (name.equals("num_ctx") || name.equals("num_thread")) {
                    try {
                        reload(settings.ref);
                    } catch (IOException | RuntimeException e) {
                        if (old == null) settings.user.remove(name);
                        else settings.user.put(name, old);
                        info.println("error: " + Main.describe(e));
                    }
                }
            }
            case "verbose" -> {
                settings.verbose = true;
                info.println("Set 'verbose' mode.");
            }
            case "quiet" -> {
                settings.verbose = false;
                info.println("Set 'quiet' mode.");
            }
            case "history", "nohistory" -> {
                if (reader != null) reader.variable(LineReader.DISABLE_HISTORY, a.get(1).equals("nohistory"));
            }
            default -> info.println("Unknown command '/set " + a.get(1) + "'. Type /? for help");
        }
    }

    /**
     * {@code /set system}: the new system message for the rest of the conversation. Ollama appends a system message
     * to the messages of the next request; Gemma's template only folds a system message that comes first into the
     * first user turn, so here it replaces the conversation's system message (the next reply re-reads the
     * conversation from there; the KV cache of the unchanged prefix is kept).
     */
    private void setSystem(String text) {
        settings.system = text;
        List<ChatMessage> next = new ArrayList<>();
        next.add(ChatMessage.system(text));
        for (ChatMessage m : conversation()) if (!m.role().equals("system")) next.add(m);
        conversation = next;
        info.println("Set system message.");
        info.flush();
    }

    /** The conversation as the next message will extend it (the chat's history, or what /set system made of it). */
    private List<ChatMessage> conversation() {
        return conversation != null ? conversation : chat.history();
    }

    private void show(List<String> a) throws IOException {
        if (a.size() < 2) {
            usageShow();
            return;
        }
        ModelReference ref = settings.ref;
        switch (a.get(1)) {
            case "info" -> ModelInfo.of(ref).print(ref, info);
            case "license" -> info.println(ref.license().isEmpty() ? "No license was specified for this model." : String.join("\n", ref.license()));
            case "parameters" -> {
                info.println("Model defined parameters:");
                if (ref.params().isEmpty()) info.println("  No additional parameters were specified for this model.");
                else ModelInfo.printParams(ref.params(), info, "  ");
                info.println();
                if (!settings.user.isEmpty()) {
                    info.println("User defined parameters:");
                    ModelInfo.printParams(new TreeMap<>(settings.user), info, "  ");
                    info.println();
                }
            }
            case "system" -> {
                String s = settings.system();
                info.println(s == null || s.isEmpty() ? "No system message was specified for this model." : s + "\n");
            }
            case "template" -> info.println(ref.template() != null ? ref.template()
                    : "No prompt template was specified for this model (the GGUF's chat template, else Gemma's turn format, is used).");
            default -> info.println("Unknown command '/show " + a.get(1) + "'. Type /? for help");
        }
    }

    /** {@code /load MODEL}: another model, a new conversation (Ollama clears the messages too). */
    private void load(String name) {
        ModelReference ref;
        try {
            ref = ModelReference.resolve(name);
        } catch (IOException | RuntimeException e) {
            info.println("Couldn't find model '" + name + "': " + Main.describe(e));
            return;
        }
        info.println("Loading model '" + name + "'");
        info.flush();
        java.nio.file.Path mmproj = settings.mmproj;
        settings.mmproj = null; // --mmproj was the projector of the model given on the command line
        try {
            reload(ref);
        } catch (IOException | RuntimeException e) {
            settings.mmproj = mmproj;
            info.println("error: " + Main.describe(e));
        }
    }

    private void reload(ModelReference ref) throws IOException {
        ModelReference before = settings.ref;
        settings.ref = ref;
        Model next;
        try {
            next = settings.open(common, err);
        } catch (IOException | RuntimeException e) {
            settings.ref = before;
            throw e;
        }
        chat.close();
        model.close();
        model = next;
        chat = model.newChat(settings.system(), parseSpecial);
        multimodal = model.hasVision();
        conversation = null;
    }

    /** {@code /save FILE}: the conversation as JSON (model, system, user options and messages, as Ollama's chat API writes messages). */
    private void save(Path file) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("model", settings.ref.name());
        if (!settings.user.isEmpty()) doc.put("options", new TreeMap<>(settings.user));
        doc.put("messages", conversation().stream().map(m -> Map.of("role", m.role(), "content", m.content())).toList());
        try {
            Files.writeString(file, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc) + "\n");
            info.println("Saved the conversation to " + file);
        } catch (IOException e) {
            info.println("error: " + Main.describe(e));
        }
    }

    private void close() {
        if (model == null) return;
        try {
            chat.close();
        } finally {
            model.close();
            model = null;
        }
    }

    private void usage() {
        info.println("""
                Available Commands:
                  /set            Set session variables
                  /show           Show model information
                  /load <model>   Load another model (a new conversation)
                  /save <file>    Save the conversation as JSON
                  /clear          Clear session context
                  /bye            Exit
                  /?, /help       Help for a command
                  /? shortcuts    Help for keyboard shortcuts

                Use \"\"\" to begin a multi-line message.""");
        if (multimodal) info.println("Use " + java.io.File.separator + "path" + java.io.File.separator + "to" + java.io.File.separator
                + "file to include .jpg, .png, or .webp images.");
        info.println();
    }

    private void usageSet() {
        info.println("""
                Available Commands:
                  /set parameter ...     Set a parameter
                  /set system <string>   Set system message
                  /set history           Enable history
                  /set nohistory         Disable history
                  /set verbose           Show LLM stats
                  /set quiet             Disable LLM stats
                """);
    }

    private void usageShow() {
        info.println("""
                Available Commands:
                  /show info         Show details for this model
                  /show license      Show model license
                  /show parameters   Show parameters for this model
                  /show system       Show system message
                  /show template     Show prompt template
                """);
    }

    private void usageShortcuts() {
        info.println("""
                Available keyboard shortcuts:
                  Ctrl + a            Move to the beginning of the line (Home)
                  Ctrl + e            Move to the end of the line (End)
                   Alt + b            Move back (left) one word
                   Alt + f            Move forward (right) one word
                  Ctrl + k            Delete the sentence after the cursor
                  Ctrl + u            Delete the sentence before the cursor
                  Ctrl + w            Delete the word before the cursor
                  Ctrl + r            Search the history

                  Ctrl + l            Clear the screen
                  Ctrl + c            Stop the model from responding
                  Ctrl + d            Exit (/bye)
                """);
    }

    private void usageParameters() {
        info.println("""
                Available Parameters:
                  /set parameter seed <int>             Random number seed
                  /set parameter num_predict <int>      Max number of tokens to predict
                  /set parameter top_k <int>            Pick from top k num of tokens
                  /set parameter top_p <float>          Pick token based on sum of probabilities
                  /set parameter min_p <float>          Pick token based on top token probability * min_p
                  /set parameter num_ctx <int>          Set the context size (reloads the model)
                  /set parameter temperature <float>    Set creativity level
                  /set parameter repeat_penalty <float> How strongly to penalize repetitions
                  /set parameter repeat_last_n <int>    Set how far back to look for repetitions
                  /set parameter stop <string> <string> ...   Set the stop parameters
                """);
    }

}
