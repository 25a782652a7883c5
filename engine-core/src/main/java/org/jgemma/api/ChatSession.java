package org.jgemma.api;

import java.util.ArrayList;
import java.util.List;

/**
 * A conversation with the model's chat template ({@link org.jgemma.chat.ChatTemplate}: the GGUF's own Jinja template,
 * else the built-in Gemma format) that keeps its KV cache between turns.
 *
 * <p>Each {@link #send} renders and tokenizes the whole conversation (history plus the new message, model turn
 * opened), as Ollama and llama.cpp's server do, and compares the ids with the session's context: when the context is
 * a prefix of them, only the new ids are evaluated (the reply's last, sampled token first: with a reply that ended
 * on {@code <end_of_turn>} that token is the template's own). When they differ (the reply's text tokenizes
 * differently from the sampled tokens, the template trimmed it, or a reply cut short lacks the end-of-turn the
 * template writes), the session is rewound to the first differing position and evaluated from there; a
 * sliding-window cache that cannot rewind that far is emptied and the conversation evaluated again in full.
 *
 * <p>Special-token text inside messages (a user writing {@code <end_of_turn>}) stays text unless the chat was made
 * with {@code parseSpecialInContent}.
 *
 * <p>Single-threaded, like {@link Session}; {@link #cancel()} may be called from any thread.
 */
public final class ChatSession implements AutoCloseable {
    private final Session session;
    private final boolean parseSpecialInContent;
    private final List<ChatMessage> history = new ArrayList<>();
    private Generation active;

    ChatSession(Session session, String systemPrompt, boolean parseSpecialInContent) {
        this.session = session;
        this.parseSpecialInContent = parseSpecialInContent;
        if (systemPrompt != null && !systemPrompt.isEmpty()) history.add(ChatMessage.system(systemPrompt));
    }

    /** The conversation so far (system prompt, user and assistant messages). */
    public List<ChatMessage> history() {
        return List.copyOf(history);
    }

    /** The underlying session (its position tells how much context the conversation uses). */
    public Session session() {
        return session;
    }

    /** Sends a user message and generates the reply to the end. */
    public GenerationResult send(String userMessage, GenerationOptions options, TokenListener listener) {
        Generation g = start(userMessage, options);
        GenerationResult r = g.run(listener);
        finishTurn(g);
        return r;
    }

    /** Sends a user message; the reply is pulled from the returned generation. Its text joins the history when the next turn starts. */
    public Generation start(String userMessage, GenerationOptions options) {
        if (active != null) finishTurn(active);
        List<ChatMessage> all = new ArrayList<>(history);
        all.add(ChatMessage.user(userMessage));
        int[] ids = session.model().codec().encodeChat(all, true, parseSpecialInContent);
        int[] fresh = session.keepCommonPrefix(ids);
        history.add(ChatMessage.user(userMessage));
        active = session.start(fresh, options);
        return active;
    }

    /** Stops the reply being generated (from any thread). */
    public void cancel() {
        session.cancel();
    }

    /** Forgets the conversation (the system prompt stays). */
    public void reset() {
        active = null;
        session.reset();
        history.removeIf(m -> !m.role().equals("system"));
    }

    @Override
    public void close() {
        if (active != null) finishTurn(active);
        session.close();
    }

    private void finishTurn(Generation g) {
        g.close();
        history.add(ChatMessage.assistant(g.text()));
        active = null;
    }
}
