package org.jgemma.api;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A conversation with the model's chat template that keeps its KV cache between turns: each {@link #send}
 * evaluates only the new turn's tokens. The new turn's text is what llama.cpp's {@code common_chat_format_single}
 * computes: the template applied to the history plus the new message, minus the template applied to the history.
 * The end-of-turn token that ended the model's reply (sampled, not yet evaluated) goes in first; a reply cut short
 * (max tokens, stop string, cancel) is closed with the template's end-of-turn token.
 *
 * <p>Single-threaded, like {@link Session}; {@link #cancel()} may be called from any thread.
 */
public final class ChatSession implements AutoCloseable {
    private final Session session;
    private final List<ChatMessage> history = new ArrayList<>();
    private Generation active;
    private boolean closeTurn;

    ChatSession(Session session, String systemPrompt) {
        this.session = session;
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
        String delta = turnText(ChatMessage.user(userMessage));
        boolean first = session.position() == 0;
        int[] ids = session.model().codec().encode(delta, false, true);
        int bos = session.model().bosToken();
        if (first && bos >= 0 && (ids.length == 0 || ids[0] != bos)) ids = prepend(bos, ids);
        int eot = session.model().codec().endOfTurn();
        if (closeTurn && eot >= 0) ids = prepend(eot, ids);
        history.add(ChatMessage.user(userMessage));
        active = session.start(ids, options);
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
        closeTurn = false;
    }

    @Override
    public void close() {
        if (active != null) finishTurn(active);
        session.close();
    }

    private void finishTurn(Generation g) {
        g.close();
        history.add(ChatMessage.assistant(g.text()));
        // the reply's last token is pending; unless it is the EOG that closes the turn, close it ourselves
        int last = session.pending();
        closeTurn = !(last >= 0 && session.model().codec().isEog(last) && g.stopReason() == StopReason.END_OF_GENERATION);
        active = null;
    }

    /** llama.cpp's common_chat_format_single(history, msg, add_ass = true). */
    private String turnText(ChatMessage msg) {
        TextCodec codec = session.model().codec();
        String past = "";
        List<ChatMessage> all = new ArrayList<>(history);
        if (!history.isEmpty() && session.position() > 0) past = codec.renderChat(history, false);
        all.add(msg);
        String full = codec.renderChat(all, true);
        if (session.position() == 0) return full; // nothing evaluated yet: the whole conversation goes in
        if (!full.startsWith(past)) {
            throw new IllegalStateException("the chat template does not extend the conversation as a prefix; cannot reuse the cache");
        }
        StringBuilder sb = new StringBuilder();
        if (!past.isEmpty() && past.charAt(past.length() - 1) == '\n') sb.append('\n');
        sb.append(full, past.length(), full.length());
        return sb.toString();
    }

    private static int[] prepend(int id, int[] ids) {
        int[] r = new int[ids.length + 1];
        r[0] = id;
        System.arraycopy(ids, 0, r, 1, ids.length);
        return r;
    }
}
