package org.jgemma.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.FatalTemplateErrorsException;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufFormatException;
import org.jgemma.tokenizer.Tokenizer;

/**
 * Turns a conversation into the prompt text a model was trained on.
 *
 * <p>With a GGUF {@code tokenizer.chat_template} the Jinja source is rendered by Jinjava the way Hugging Face's
 * {@code apply_chat_template} renders it (trim_blocks, lstrip_blocks, {@code messages}, {@code bos_token},
 * {@code eos_token}, {@code add_generation_prompt}, {@code raise_exception}). Without one, llama.cpp's built-in
 * Gemma format ({@code LLM_CHAT_TEMPLATE_GEMMA} in src/llama-chat.cpp) is used: {@code <start_of_turn>role\n
 * trim(content)<end_of_turn>\n}, assistant as {@code model}, system text folded into the next user turn followed by
 * a blank line, no BOS.
 *
 * <p>Special tokens are recognised only in the template's own markup, never in message contents: {@link #encode}
 * (or {@link #renderWithSpans} then {@link #tokenize(Tokenizer, Rendered)}) tokenizes a content's
 * {@code <start_of_turn>} as plain text, as llama.cpp does with parse_special false. Pass
 * {@code parseSpecialInContent = true} for llama.cpp's server behaviour, which parses them everywhere.
 */
public final class ChatTemplate {
    private static final String KEY = "tokenizer.chat_template";

    private final String source; // null: the built-in Gemma format
    private final String bosToken;
    private final String eosToken;
    private final Jinjava jinjava;

    private ChatTemplate(String source, String bosToken, String eosToken) {
        this.source = source;
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.jinjava = source == null ? null : newJinjava();
    }

    /** The file's own template, or the built-in Gemma format when it has none (as Ollama blobs may). */
    public static ChatTemplate from(GgufFile gguf) throws GgufFormatException {
        Optional<String> src = gguf.findString(KEY);
        String bos = tokenText(gguf, "tokenizer.ggml.bos_token_id");
        String eos = tokenText(gguf, "tokenizer.ggml.eos_token_id");
        return of(src.orElse(null), bos, eos);
    }

    /** A Jinja template, or the built-in Gemma format when {@code sourceOrNull} is null or blank. */
    public static ChatTemplate of(String sourceOrNull, String bosToken, String eosToken) {
        return sourceOrNull == null || sourceOrNull.isBlank() ? gemma() : jinja(sourceOrNull, bosToken, eosToken);
    }

    /** A Jinja template (HF syntax) with the given {@code bos_token} / {@code eos_token} texts. */
    public static ChatTemplate jinja(String source, String bosToken, String eosToken) {
        return new ChatTemplate(source, bosToken == null ? "" : bosToken, eosToken == null ? "" : eosToken);
    }

    /** llama.cpp's built-in Gemma turn format. */
    public static ChatTemplate gemma() {
        return new ChatTemplate(null, "", "");
    }

    private static String tokenText(GgufFile gguf, String key) throws GgufFormatException {
        if (!gguf.has(key) || !gguf.has("tokenizer.ggml.tokens")) return "";
        long id = gguf.getLong(key);
        String[] tokens = gguf.getStringArray("tokenizer.ggml.tokens");
        return id >= 0 && id < tokens.length ? tokens[(int) id] : "";
    }

    /** Whether this is the built-in Gemma format (the file had no template). */
    public boolean isBuiltin() {
        return source == null;
    }

    /** The Jinja source, if the template came from one. */
    public Optional<String> source() {
        return Optional.ofNullable(source);
    }

    /**
     * The prompt text of {@code messages}; with {@code addGenerationPrompt} it ends by opening the model's turn.
     *
     * @throws ChatTemplateException when the template raises (e.g. roles that do not alternate) or fails
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return source == null ? renderGemma(messages, addGenerationPrompt) : renderJinja(messages, addGenerationPrompt);
    }

    /**
     * A rendered prompt and where the message contents landed in it.
     *
     * @param text the prompt, as {@link #render} gives it
     * @param messages the conversation it was rendered from
     * @param contentSpans every place a message's content (as the template transformed it, e.g. trimmed) appears in
     *     {@code text}, in text order; a content the template repeats has several spans, one it drops has none
     * @param located whether the spans are known; false when the template's output could not be explained as its
     *     markup around the (possibly trimmed) contents, see {@link #tokenize(Tokenizer, Rendered, boolean)}
     */
    public record Rendered(String text, List<ChatMessage> messages, List<ContentSpan> contentSpans, boolean located) {
        public Rendered {
            messages = List.copyOf(messages);
            contentSpans = List.copyOf(contentSpans);
        }

        /** The spans as {@code {start, end}} char ranges, for {@link Tokenizer#encode(String, boolean, List)}. */
        public List<int[]> ranges() {
            List<int[]> r = new ArrayList<>(contentSpans.size());
            for (ContentSpan c : contentSpans) r.add(new int[] {c.start(), c.end()});
            return r;
        }
    }

    /** Message {@code message}'s content occupies chars {@code [start, end)} of the rendered text. */
    public record ContentSpan(int message, int start, int end) {}

    /**
     * {@link #render} and where each message's content landed. For the built-in format the spans are exact. For a
     * Jinja template they are found by rendering the conversation a second time with each content replaced by a
     * unique marker (private-use characters), which gives the template's markup between the contents; the real
     * output must then be exactly that markup with each marker replaced by the content, Python-{@code trim}med, as is,
     * or C-trimmed (the transformations Gemma templates apply). Searching the output for the contents instead would
     * be fooled by a content equal to markup (a user message {@code "<end_of_turn>"} would match the template's own
     * token first). When the output cannot be explained that way (a template that branches on the text, or
     * transforms it otherwise), {@code located} is false.
     */
    public Rendered renderWithSpans(List<ChatMessage> messages, boolean addGenerationPrompt) {
        if (source == null) {
            List<ContentSpan> spans = new ArrayList<>();
            String text = renderGemma(messages, addGenerationPrompt, spans);
            return new Rendered(text, messages, spans, true);
        }
        String text = renderJinja(messages, addGenerationPrompt);
        List<ContentSpan> spans = locateJinja(messages, addGenerationPrompt, text);
        return spans == null ? new Rendered(text, messages, List.of(), false) : new Rendered(text, messages, spans, true);
    }

    /**
     * The ids of {@code messages} rendered with this template, special tokens parsed only in the template's markup
     * ({@link #renderWithSpans} then {@link #tokenize(Tokenizer, Rendered)}).
     */
    public int[] encode(Tokenizer tokenizer, List<ChatMessage> messages, boolean addGenerationPrompt) {
        return tokenize(tokenizer, renderWithSpans(messages, addGenerationPrompt), false);
    }

    /** As {@link #encode(Tokenizer, List, boolean)}, with {@code parseSpecialInContent} as in {@link #tokenize(Tokenizer, Rendered, boolean)}. */
    public int[] encode(Tokenizer tokenizer, List<ChatMessage> messages, boolean addGenerationPrompt,
            boolean parseSpecialInContent) {
        return tokenize(tokenizer, renderWithSpans(messages, addGenerationPrompt), parseSpecialInContent);
    }

    /** The ids of a rendered prompt, special-token texts in message contents left as text. */
    public static int[] tokenize(Tokenizer tokenizer, Rendered rendered) {
        return tokenize(tokenizer, rendered, false);
    }

    /**
     * The ids of a rendered prompt. Special tokens ({@code <bos>}, {@code <start_of_turn>}, ...) are parsed in the
     * template's markup; in message contents only with {@code parseSpecialInContent} (llama.cpp's server parses the
     * whole prompt; the default here treats a content's {@code <end_of_turn>} as text, as with parse_special false,
     * so users cannot forge turns). BOS is added only when the text does not already start with the BOS token's text
     * (the GGUF template emits {@code {{ bos_token }}} itself).
     *
     * <p>When the contents could not be located ({@code rendered.located()} false) and some message content would
     * tokenize differently with special tokens parsed, this fails rather than guess: protecting nothing would let the
     * content inject control tokens, protecting everything would silently turn the template's own markup into text.
     * A conversation without special-token text in its contents is unaffected (there is nothing to protect).
     *
     * @throws ChatTemplateException when the contents are not located and one of them contains special-token text
     */
    public static int[] tokenize(Tokenizer tokenizer, Rendered rendered, boolean parseSpecialInContent) {
        String text = rendered.text();
        int bos = tokenizer.bosId();
        boolean addBos = !(bos >= 0 && text.startsWith(tokenizer.tokenText(bos)));
        if (parseSpecialInContent) return tokenizer.encode(text, addBos, true);
        if (rendered.located()) return tokenizer.encode(text, addBos, rendered.ranges());
        for (int i = 0; i < rendered.messages().size(); i++) {
            String c = rendered.messages().get(i).content();
            if (!Arrays.equals(tokenizer.encode(c, false, true), tokenizer.encode(c, false, false))) {
                throw new ChatTemplateException("message " + i + " (" + rendered.messages().get(i).role()
                        + ") contains special-token text, and the chat template's output could not be split into markup"
                        + " and message contents, so it cannot be tokenized without parsing that text; remove it, or"
                        + " opt in to parsing special tokens in contents");
            }
        }
        return tokenizer.encode(text, addBos, true);
    }

    /**
     * The ids of a prompt text whose special tokens are all to be parsed (as llama.cpp's server and CLI do), adding
     * BOS only when the text does not already start with the BOS token's text. Only for text that is trusted as a
     * whole: for a conversation use {@link #encode} or {@link #tokenize(Tokenizer, Rendered)}, which keep message
     * contents from injecting control tokens.
     */
    public static int[] tokenize(Tokenizer tokenizer, String rendered) {
        int bos = tokenizer.bosId();
        boolean hasBos = bos >= 0 && rendered.startsWith(tokenizer.tokenText(bos));
        return tokenizer.encode(rendered, !hasBos, true);
    }

    // ---------------------------------------------------------------- built-in (llama.cpp LLM_CHAT_TEMPLATE_GEMMA)

    static String renderGemma(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return renderGemma(messages, addGenerationPrompt, new ArrayList<>());
    }

    /** @param spans receives where each content landed, in text order */
    static String renderGemma(List<ChatMessage> messages, boolean addGenerationPrompt, List<ContentSpan> spans) {
        StringBuilder sb = new StringBuilder();
        StringBuilder systemPrompt = new StringBuilder();
        List<Integer> systemMessages = new ArrayList<>(); // indices of the system texts pending in systemPrompt
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            if (m.role().equals("system")) {
                systemPrompt.append(trimAscii(m.content()));
                systemMessages.add(i);
                continue;
            }
            String role = m.role().equals("assistant") ? "model" : m.role();
            sb.append("<start_of_turn>").append(role).append('\n');
            if (!systemPrompt.isEmpty() && !role.equals("model")) {
                for (int k : systemMessages) {
                    int len = trimAscii(messages.get(k).content()).length();
                    spans.add(new ContentSpan(k, sb.length(), sb.length() + len));
                    sb.append(trimAscii(messages.get(k).content()));
                }
                sb.append("\n\n");
                systemPrompt.setLength(0);
                systemMessages.clear();
            }
            String content = trimAscii(m.content());
            spans.add(new ContentSpan(i, sb.length(), sb.length() + content.length()));
            sb.append(content).append("<end_of_turn>\n");
        }
        if (addGenerationPrompt) sb.append("<start_of_turn>model\n");
        return sb.toString();
    }

    /** C isspace trim: space, \t, \n, \v, \f, \r (llama-chat.cpp trim). */
    static String trimAscii(String s) {
        int a = 0, b = s.length();
        while (a < b && isCSpace(s.charAt(a))) a++;
        while (b > a && isCSpace(s.charAt(b - 1))) b--;
        return s.substring(a, b);
    }

    private static boolean isCSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }

    // ---------------------------------------------------------------- Jinja

    /**
     * Bounds on one rendering. The template comes from the model file, so it is untrusted code: it gets no resource
     * loader ({@link #NO_LOADER}) and every rendering is limited in output and string length (a fixed allowance plus a
     * multiple of the conversation's own size, so long conversations still render), list and map sizes, nodes
     * rendered (loop iterations with a body, macro calls) and wall time. A breach is a {@link ChatTemplateException}.
     * Jinjava's own {@code range()} stops at 1000 items, its macros do not recurse and its render depth is 10.
     */
    static final long OUTPUT_ALLOWANCE = 4L << 20;  // chars, plus OUTPUT_PER_INPUT_CHAR per char of the conversation
    static final long OUTPUT_PER_INPUT_CHAR = 4;
    static final int MAX_COLLECTION = 100_000;      // items in a list or map the template builds
    static final long MAX_NODES = 2_000_000;        // template nodes rendered, plus NODES_PER_MESSAGE per message
    static final long NODES_PER_MESSAGE = 1_000;
    static final long MAX_RENDER_NANOS = 10_000_000_000L; // wall time of one rendering

    /** The resource locator of every template: none. Jinjava's default reads the class path. */
    private static final com.hubspot.jinjava.loader.ResourceLocator NO_LOADER = (name, encoding, interpreter) -> {
        throw new java.io.IOException("a chat template cannot load other templates (include, import, from, extends '"
                + org.jgemma.text.ControlChars.escape(name) + "')");
    };

    private static Jinjava newJinjava() {
        Jinjava j = new Jinjava(config(OUTPUT_ALLOWANCE, MAX_COLLECTION, null));
        j.setResourceLocator(NO_LOADER);
        j.registerFilter(new PythonTrimFilter());
        j.registerFunction(new ELFunctionDefinition("", "raise_exception", ChatTemplate.class, "raiseException", String.class));
        return j;
    }

    private static JinjavaConfig config(long maxChars, int maxCollection, RenderBudget budget) {
        JinjavaConfig.Builder b = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)   // HF: ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
                .withLstripBlocks(true)
                .withNestedInterpretationEnabled(false) // message text is data: never render "{{ ... }}" inside it
                .withEnableRecursiveMacroCalls(false)
                .withMaxOutputSize(maxChars)
                .withMaxStringLength(maxChars)
                .withMaxListSize(maxCollection)
                .withMaxMapSize(maxCollection)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseNaturalOperatorPrecedence(true) // filters bind tighter than '+', as in Jinja2
                        .withParseWhitespaceControlStrictly(true)
                        .withKeepNullableLoopValues(true)
                        .build());
        if (budget != null) {
            b.withProcessors(com.hubspot.jinjava.el.JinjavaProcessors.newBuilder()
                    .withNodePreProcessor((node, interpreter) -> budget.charge())
                    .build());
        }
        return b.build();
    }

    /** Counts the nodes one rendering renders and watches its wall time; thrown past either limit. */
    private static final class RenderBudget {
        private final long maxNodes;
        private final long deadline;
        private long nodes;
        private String exceeded;

        RenderBudget(long maxNodes, long maxNanos) {
            this.maxNodes = maxNodes;
            this.deadline = System.nanoTime() + maxNanos;
        }

        void charge() {
            if (exceeded == null && ++nodes > maxNodes) {
                exceeded = "it rendered more than " + maxNodes + " template nodes (the limit for this conversation)";
            }
            if (exceeded == null && (nodes & 63) == 0 && System.nanoTime() - deadline > 0) {
                exceeded = "it ran longer than the limit of " + MAX_RENDER_NANOS / 1_000_000_000L + " s";
            }
            if (exceeded != null) throw new BudgetExceeded(exceeded);
        }
    }

    private static final class BudgetExceeded extends RuntimeException {
        BudgetExceeded(String message) {
            super(message, null, false, false);
        }
    }

    /** The template's {@code raise_exception(message)}. */
    public static String raiseException(String message) {
        throw new RaisedException(message);
    }

    private static final class RaisedException extends RuntimeException {
        RaisedException(String message) {
            super(message);
        }
    }

    private String renderJinja(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> msgs = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("role", m.role());
            e.put("content", m.content());
            msgs.add(e);
        }
        Map<String, Object> ctx = new HashMap<>();
        ctx.put("messages", msgs);
        ctx.put("add_generation_prompt", addGenerationPrompt);
        ctx.put("bos_token", bosToken);
        ctx.put("eos_token", eosToken);
        long inputChars = bosToken.length() + eosToken.length();
        for (ChatMessage m : messages) inputChars += m.role().length() + m.content().length();
        long maxChars = Math.min(Integer.MAX_VALUE - 16, OUTPUT_ALLOWANCE + OUTPUT_PER_INPUT_CHAR * inputChars);
        RenderBudget budget = new RenderBudget(MAX_NODES + NODES_PER_MESSAGE * messages.size(), MAX_RENDER_NANOS);
        JinjavaConfig config = config(maxChars, MAX_COLLECTION + messages.size(), budget);
        RenderResult r;
        try {
            r = jinjava.renderForResult(source, ctx, config);
        } catch (RaisedException e) {
            throw new ChatTemplateException("chat template raised: " + oneLine(e.getMessage()), e);
        } catch (BudgetExceeded e) {
            throw bounded(e);
        } catch (FatalTemplateErrorsException e) {
            throw new ChatTemplateException("chat template failed: " + oneLine(e.getMessage()), e);
        } catch (RuntimeException | StackOverflowError e) {
            // anything else Jinjava lets escape (a bug of its own on hostile input, a parser recursing too deep)
            Throwable b = find(e, BudgetExceeded.class);
            if (b != null) throw bounded((BudgetExceeded) b);
            throw new ChatTemplateException("chat template failed: " + oneLine(String.valueOf(e)), e);
        }
        for (TemplateError err : r.getErrors()) {
            Throwable raised = find(err.getException(), RaisedException.class);
            if (raised != null) throw new ChatTemplateException("chat template raised: " + oneLine(raised.getMessage()), raised);
            Throwable b = find(err.getException(), BudgetExceeded.class);
            if (b != null) throw bounded((BudgetExceeded) b);
        }
        for (TemplateError err : r.getErrors()) {
            if (err.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new ChatTemplateException("chat template error at line " + err.getLineno() + ": " + oneLine(err.getMessage()));
            }
        }
        return r.getOutput();
    }

    // ---------------------------------------------------------------- locating contents in a Jinja rendering

    private static final char MARK_OPEN = '\uE000', MARK_CLOSE = '\uE001'; // private use: no template emits them

    /** The spans of the contents in {@code text} (this template's rendering of {@code messages}), or null. */
    private List<ContentSpan> locateJinja(List<ChatMessage> messages, boolean addGenerationPrompt, String text) {
        if (hasMark(source) || hasMark(bosToken) || hasMark(eosToken)) return null;
        List<ChatMessage> marked = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            marked.add(new ChatMessage(messages.get(i).role(), MARK_OPEN + Integer.toString(i) + MARK_CLOSE));
        }
        String skeleton;
        try {
            skeleton = renderJinja(marked, addGenerationPrompt);
        } catch (ChatTemplateException e) {
            return null; // the template judged the marker text: it depends on the contents
        }
        // skeleton = literal[0] marker[0] literal[1] ... marker[n-1] literal[n]
        List<String> literals = new ArrayList<>();
        List<Integer> marks = new ArrayList<>();
        for (int p = 0; ; ) {
            int open = skeleton.indexOf(MARK_OPEN, p);
            if (open < 0) {
                literals.add(skeleton.substring(p));
                break;
            }
            int close = skeleton.indexOf(MARK_CLOSE, open);
            int m = close < 0 ? -1 : parseIndex(skeleton.substring(open + 1, close), messages.size());
            if (m < 0) return null; // a marker cut or altered by the template
            literals.add(skeleton.substring(p, open));
            marks.add(m);
            p = close + 1;
        }
        List<ContentSpan> spans = new ArrayList<>(marks.size());
        int pos = 0;
        for (int k = 0; k < marks.size(); k++) {
            String literal = literals.get(k), next = literals.get(k + 1);
            if (!text.startsWith(literal, pos)) return null;
            pos += literal.length();
            String content = messages.get(marks.get(k)).content();
            String chosen = null;
            for (String c : new String[] {pythonTrim(content), content, trimAscii(content)}) {
                if (text.startsWith(c, pos) && text.startsWith(next, pos + c.length())) {
                    chosen = c;
                    break;
                }
            }
            if (chosen == null) return null;
            spans.add(new ContentSpan(marks.get(k), pos, pos + chosen.length()));
            pos += chosen.length();
        }
        String last = literals.getLast();
        return text.startsWith(last, pos) && pos + last.length() == text.length() ? spans : null;
    }

    private static boolean hasMark(String s) {
        return s.indexOf(MARK_OPEN) >= 0 || s.indexOf(MARK_CLOSE) >= 0;
    }

    /** The message index a marker holds, or -1. */
    private static int parseIndex(String digits, int n) {
        if (digits.isEmpty() || digits.length() > 9) return -1;
        for (int i = 0; i < digits.length(); i++) if (digits.charAt(i) < '0' || digits.charAt(i) > '9') return -1;
        int v = Integer.parseInt(digits);
        return v < n ? v : -1;
    }

    private static String pythonTrim(String s) {
        int a = 0, b = s.length();
        while (a < b && PythonTrimFilter.isPythonSpace(s.charAt(a))) a++;
        while (b > a && PythonTrimFilter.isPythonSpace(s.charAt(b - 1))) b--;
        return s.substring(a, b);
    }

    private static Throwable find(Throwable t, Class<? extends Throwable> type) {
        for (int depth = 0; t != null && depth < 16; t = t.getCause(), depth++) {
            if (type.isInstance(t)) return t;
        }
        return null;
    }

    private static ChatTemplateException bounded(BudgetExceeded e) {
        return new ChatTemplateException("chat template stopped: " + e.getMessage(), e);
    }

    /** A message on one line with no control characters (template text and errors come from the model file). */
    private static String oneLine(String s) {
        return org.jgemma.text.ControlChars.escape(s);
    }
}
