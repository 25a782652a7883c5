package org.jgemma.api;

import java.util.ArrayList;
import java.util.List;
import org.jgemma.chat.ChatMessage;

/**
 * A conversation with the model's chat template ({@link org.jgemma.chat.ChatTemplate}: the GGUF's own Jinja template,
 * else the built-in Gemma format) that keeps its KV cache between turns.
 *
 * <p>Each {@link #send} renders and tokenizes the whole conversation (history plus the new message, model turn
 * opened), as Ollama and llama.cpp's server do, and compares the ids with the session's context: the longest common
 * prefix stays in the KV cache and only the rest is evaluated (llama-server's {@code cache_prompt}). When the
 * reply's text tokenizes differently from the sampled tokens, the template trimmed it, or a reply cut short lacks
 * the end-of-turn the template writes, the session is rewound to the first differing position; a sliding-window
 * cache that cannot rewind that far is emptied and the conversation evaluated again in full.
 *
 * <p>A whole message list can be answered with {@link #send(List, GenerationOptions, TokenListener)} (what a
 * stateless HTTP API receives): it replaces this chat's history and reuses the cache of the prefix this chat has
 * evaluated; {@link #reusablePrefix} tells how much that is, to pick the best of several chats.
 *
 * <p>When the conversation outgrows the context, {@link GenerationOptions#contextPolicy()} decides: by default the
 * system prompt stays and the oldest whole turns are dropped ({@link ContextPolicy#DROP_OLDEST_TURNS}); they leave
 * {@link #history()} too. A send that fails (a template error, a {@link ContextOverflowException}, the model closed)
 * leaves the history as it was, so the chat stays usable.
 *
 * <p>Special-token text inside messages (a user writing {@code <end_of_turn>}) stays text unless the chat was made
 * with {@code parseSpecialInContent}.
 *
 * <p>One thread at a time, like {@link Session}; {@link #cancel()} may be called from any thread (see
 * {@link Session#cancel()}: a cancelled turn stays in the history with the part of the reply generated).
 */
public final class ChatSession implements AutoCloseable {
    private final Session session;
    private final boolean parseSpecialInContent;
    /** Image embeddings by image (identity: a message's), so each image is encoded once per message. */
    private final java.util.Map<org.jgemma.vision.RgbImage, float[][]> imageCache = ImagePrompt.newCache();
    private List<ChatMessage> history = new ArrayList<>();
    private Generation active;
    private int[] activePrompt;               // the rendered ids the active reply continues
    private List<ChatMessage> activeConversation; // the history plus the user message being answered
    private int droppedMessages;

    ChatSession(Session session, List<ChatMessage> history, boolean parseSpecialInContent) {
        this.session = session;
        this.parseSpecialInContent = parseSpecialInContent;
        this.history.addAll(history);
        session.setRoomMaker(this::makeRoom);
    }

    /** The conversation in the context (system prompt, user and assistant messages; dropped turns left out). */
    public List<ChatMessage> history() {
        return List.copyOf(history);
    }

    /** Messages dropped so far to keep the conversation within the context. */
    public int droppedMessages() {
        return droppedMessages;
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

    /**
     * Answers {@code conversation} (its last message is the user's): the chat's history becomes the conversation,
     * and the KV cache of the longest common prefix with what this chat evaluated before is reused.
     */
    public GenerationResult send(List<ChatMessage> conversation, GenerationOptions options, TokenListener listener) {
        Generation g = start(conversation, options);
        GenerationResult r = g.run(listener);
        finishTurn(g);
        return r;
    }

    /** Sends a user message; the reply is pulled from the returned generation. Its text joins the history when the next turn starts. */
    public Generation start(String userMessage, GenerationOptions options) {
        if (active != null) finishTurn(active);
        List<ChatMessage> all = new ArrayList<>(history);
        all.add(ChatMessage.user(userMessage));
        return begin(all, options);
    }

    /** Sends a user message that may show images ({@link ChatMessage#user(String, java.nio.file.Path...)}) and generates the reply. */
    public GenerationResult send(ChatMessage userMessage, GenerationOptions options, TokenListener listener) {
        Generation g = start(userMessage, options);
        GenerationResult r = g.run(listener);
        finishTurn(g);
        return r;
    }

    /** As {@link #send(ChatMessage, GenerationOptions, TokenListener)}, pulled a piece at a time. */
    public Generation start(ChatMessage userMessage, GenerationOptions options) {
        if (!userMessage.role().equals("user")) throw new IllegalArgumentException("a message to send must be the user's");
        if (active != null) finishTurn(active);
        List<ChatMessage> all = new ArrayList<>(history);
        all.add(userMessage);
        return begin(all, options);
    }

    /** As {@link #send(List, GenerationOptions, TokenListener)}, pulled a piece at a time. */
    public Generation start(List<ChatMessage> conversation, GenerationOptions options) {
        if (conversation.isEmpty() || !conversation.getLast().role().equals("user")) {
            throw new IllegalArgumentException("the conversation must end with a user message");
        }
        if (active != null) finishTurn(active);
        return begin(new ArrayList<>(conversation), options);
    }

    /** Tokens of {@code conversation} (rendered with the model turn opened) already in this chat's KV cache. */
    public int reusablePrefix(List<ChatMessage> conversation) {
        return session.commonPrefix(encode(conversation));
    }

    /** Stops the reply being generated (from any thread). */
    public void cancel() {
        session.cancel();
    }

    /** Forgets the conversation (the system prompt stays). */
    public void reset() {
        if (active != null) finishTurn(active);
        session.reset();
        history.removeIf(m -> !m.role().equals("system"));
    }

    @Override
    public void close() {
        try {
            if (active != null) finishTurn(active);
        } finally {
            session.close();
        }
    }

    // ---- internals ----------------------------------------------------------------------------------------

    private int[] encode(List<ChatMessage> conversation) {
        if (ImagePrompt.hasImages(conversation)) {
            var found = new java.util.HashMap<Integer, float[][]>();
            int[] ids = ImagePrompt.encode(session.model(), conversation, parseSpecialInContent, imageCache, found);
            session.registerImages(found);
            return ids;
        }
        return session.model().codec().encodeChat(conversation, true, parseSpecialInContent);
    }

    /** Fits {@code conversation} to the context under the options' policy, evaluates what is new, starts the reply. */
    private Generation begin(List<ChatMessage> conversation, GenerationOptions options) {
        int ctx = session.model().contextSize();
        int reserve = options.replyReserve(ctx);
        int dropped = 0;
        int[] ids = encode(conversation);
        while (ids.length + reserve > ctx) {
            if (options.contextPolicy() == ContextPolicy.FAIL && ids.length > ctx - 1) {
                throw new ContextOverflowException("the conversation has " + ids.length + " tokens; the context holds " + ctx
                        + " (context policy FAIL; DROP_OLDEST_TURNS would drop the oldest turns)", ids.length, ctx);
            }
            if (options.contextPolicy() == ContextPolicy.FAIL) break; // fits, without the room for a whole reply
            int n = dropOldestTurn(conversation);
            if (n == 0) {
                if (ids.length < ctx) break; // nothing left to drop, but the prompt fits: the reply gets what is left
                throw new ContextOverflowException("the system prompt and the last message alone have " + ids.length
                        + " tokens; the context holds " + ctx, ids.length, ctx);
            }
            dropped += n;
            ids = encode(conversation);
        }
        int[] fresh = session.keepCommonPrefix(ids);
        Generation g = session.start(fresh, options); // throws before anything changes here
        history = new ArrayList<>(conversation);
        droppedMessages += dropped;
        active = g;
        activePrompt = ids;
        activeConversation = conversation;
        return g;
    }

    /**
     * Removes the oldest turn after the system prompt (a user message and the replies up to the next user message),
     * never the last message; returns how many messages went.
     */
    private static int dropOldestTurn(List<ChatMessage> conversation) {
        int i = 0;
        while (i < conversation.size() && conversation.get(i).role().equals("system")) i++;
        int end = i + 1;
        while (end < conversation.size() && !conversation.get(end).role().equals("user")) end++;
        if (end >= conversation.size()) return 0; // only the last message is left after the system prompt
        conversation.subList(i, end).clear();
        return end - i;
    }

    /**
     * The reply filled the context: drop the oldest turns until the conversation, the reply so far and a quarter of
     * the context fit, and evaluate the new context (its prefix is reused). False when nothing can be dropped.
     */
    private boolean makeRoom(Generation g) {
        if (active != g || activeConversation == null) return false;
        int ctx = session.model().contextSize();
        int[] reply = g.generatedTokens(); // the last one is pending: sampled, not evaluated
        List<ChatMessage> conv = new ArrayList<>(activeConversation);
        int dropped = 0;
        int[] ids = activePrompt;
        do {
            int n = dropOldestTurn(conv);
            if (n == 0) return false;
            dropped += n;
            ids = encode(conv);
        } while (ids.length + reply.length + ctx / 4 > ctx && ids.length + reply.length < ctx);
        if (ids.length + reply.length >= ctx) return false;
        int[] all = new int[ids.length + reply.length];
        System.arraycopy(ids, 0, all, 0, ids.length);
        System.arraycopy(reply, 0, all, ids.length, reply.length);
        int[] rest = session.reseat(all);
        if (rest.length > 0) session.evaluatePrompt(rest, null);
        if (session.cancelRequested()) return true; // the step ends it as cancelled
        activeConversation = conv;
        activePrompt = ids;
        history = new ArrayList<>(conv);
        droppedMessages += dropped;
        return true;
    }

    private void finishTurn(Generation g) {
        g.close();
        if (g == active) {
            history.add(ChatMessage.assistant(g.text()));
            active = null;
            activePrompt = null;
            activeConversation = null;
        }
    }
}
