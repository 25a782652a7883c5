package org.jgemma.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.FatalTemplateErrorsException;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.util.ArrayList;
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
 * a blank line, no BOS. Use {@link #tokenize} to turn either into ids without a doubled BOS.
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
     * The ids of a rendered prompt: special tokens in it are parsed (as llama.cpp's server and CLI do), and BOS is
     * added only when the text does not already start with the BOS token's text (the GGUF template emits
     * {@code {{ bos_token }}} itself).
     */
    public static int[] tokenize(Tokenizer tokenizer, String rendered) {
        int bos = tokenizer.bosId();
        boolean hasBos = bos >= 0 && rendered.startsWith(tokenizer.tokenText(bos));
        return tokenizer.encode(rendered, !hasBos, true);
    }

    // ---------------------------------------------------------------- built-in (llama.cpp LLM_CHAT_TEMPLATE_GEMMA)

    static String renderGemma(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        String systemPrompt = "";
        for (ChatMessage m : messages) {
            if (m.role().equals("system")) {
                systemPrompt += trimAscii(m.content());
                continue;
            }
            String role = m.role().equals("assistant") ? "model" : m.role();
            sb.append("<start_of_turn>").append(role).append('\n');
            if (!systemPrompt.isEmpty() && !role.equals("model")) {
                sb.append(systemPrompt).append("\n\n");
                systemPrompt = "";
            }
            sb.append(trimAscii(m.content())).append("<end_of_turn>\n");
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

    private static Jinjava newJinjava() {
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)   // HF: ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
                .withLstripBlocks(true)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseNaturalOperatorPrecedence(true) // filters bind tighter than '+', as in Jinja2
                        .withParseWhitespaceControlStrictly(true)
                        .withKeepNullableLoopValues(true)
                        .build())
                .build();
        Jinjava j = new Jinjava(config);
        j.registerFunction(new ELFunctionDefinition("", "raise_exception", ChatTemplate.class, "raiseException", String.class));
        return j;
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
        RenderResult r;
        try {
            r = jinjava.renderForResult(source, ctx);
        } catch (FatalTemplateErrorsException e) {
            throw new ChatTemplateException("chat template failed: " + e.getMessage(), e);
        } catch (RaisedException e) {
            throw new ChatTemplateException("chat template raised: " + e.getMessage(), e);
        }
        for (TemplateError err : r.getErrors()) {
            Throwable raised = findRaised(err.getException());
            if (raised != null) throw new ChatTemplateException("chat template raised: " + raised.getMessage(), raised);
        }
        for (TemplateError err : r.getErrors()) {
            if (err.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new ChatTemplateException("chat template error at line " + err.getLineno() + ": " + err.getMessage());
            }
        }
        return r.getOutput();
    }

    private static Throwable findRaised(Throwable t) {
        for (int depth = 0; t != null && depth < 16; t = t.getCause(), depth++) {
            if (t instanceof RaisedException) return t;
        }
        return null;
    }
}
