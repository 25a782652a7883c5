package org.jgemma.api;

import java.util.Arrays;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A sequence of tokens with its KV cache: each {@link #generate} continues where the last one stopped, evaluating
 * only the new prompt tokens. The first prompt gets BOS; prompt text is tokenized with special tokens parsed
 * ({@code <start_of_turn>} becomes its id).
 *
 * <p><b>Threads.</b> A session is used by one thread at a time (hand it over with the usual happens-before, e.g. an
 * executor); sessions of one {@link Model} may run on different threads at once, their steps batched by the model's
 * scheduler. {@link #cancel()} may be called from any thread.
 *
 * <p><b>Cancel.</b> {@link #cancel()} ends the running request — while its prompt is evaluated (between two chunks of
 * {@link Model#batchSize()} tokens) or while it generates (before the next token) — with
 * {@link StopReason#CANCELLED}; called when no request runs, it ends the next one before it evaluates anything, so a
 * cancel that races with the start of a request is never lost. Every request that ends consumes a pending cancel.
 * After a prompt evaluation was cancelled the context holds the part of the prompt that was evaluated.
 *
 * <p><b>Memory.</b> The KV cache is allocated when the session is made and freed by {@link #close()} (idempotent).
 * A prompt that does not fit the context throws {@link ContextOverflowException} and leaves the session usable.
 */
public final class Session implements AutoCloseable {
    private final Model model;
    private final Inference.Sequence seq;
    private final float[] logits;       // [vocab] logits after the last evaluated token
    private int[] history = new int[256]; // tokens in the context, the pending one included
    private int nHistory;
    private final int[] one = new int[1];
    private int pending = -1;            // sampled but not yet evaluated
    private boolean logitsValid;
    private volatile boolean cancel;
    private boolean closed;
    private Generation active;
    /** Embeddings of the images in prompts, by the first of their negative placeholder ids (see ImagePrompt). */
    private final java.util.Map<Integer, float[][]> images = new java.util.HashMap<>();
    /** Makes room when a reply fills the context (a chat's {@link ContextPolicy#DROP_OLDEST_TURNS}); null: none. */
    private RoomMaker roomMaker;

    /** Frees context when a generation reaches its end; true if there is room for at least one more token. */
    interface RoomMaker {
        boolean makeRoom(Generation g);
    }

    Session(Model model, Inference.Sequence seq) {
        this.model = model;
        this.seq = seq;
        this.logits = new float[model.vocabSize()];
    }

    public Model model() { return model; }

    /** Tokens in the context, a pending one (sampled, evaluated with the next prompt) included. */
    public int position() {
        return nHistory;
    }

    /** Tokens evaluated into the KV cache. */
    public int evaluated() {
        return seq.position();
    }

    /** Room left in the context, in tokens. */
    public int contextLeft() {
        return model.contextSize() - nHistory;
    }

    /** The tokens of the context so far. */
    public int[] history() {
        return Arrays.copyOf(history, nHistory);
    }

    /** Ends the running request, or the next one if none runs (from any thread); see the class comment. */
    public void cancel() {
        cancel = true;
    }

    /** Empties the context: the next prompt starts at position 0 with BOS. */
    public void reset() {
        checkOpen();
        endActive();
        seq.reset();
        nHistory = 0;
        pending = -1;
        logitsValid = false;
    }

    /** Generates from {@code prompt} to the end, streaming to {@code listener}. */
    public GenerationResult generate(String prompt, GenerationOptions options, TokenListener listener) {
        return start(prompt, options).run(listener);
    }

    /** Generates from prompt token ids (no BOS added, nothing parsed). */
    public GenerationResult generate(int[] promptIds, GenerationOptions options, TokenListener listener) {
        return start(promptIds, options).run(listener);
    }

    /** Evaluates the prompt and returns the generation, to be pulled a piece at a time (close it to stop early). */
    public Generation start(String prompt, GenerationOptions options) {
        return start(encodePrompt(prompt), options);
    }

    public Generation start(int[] promptIds, GenerationOptions options) {
        checkOpen();
        model.checkFileUnchanged();
        endActive();
        checkPrompt(promptIds);
        active = new Generation(this, promptIds, options);
        return active;
    }

    /** The text pieces of a generation as a stream (closing the stream ends the generation). */
    public Stream<String> stream(String prompt, GenerationOptions options) {
        Generation g = start(prompt, options);
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(g, Spliterator.ORDERED | Spliterator.NONNULL), false)
                .onClose(g::close);
    }

    /** Tokenizes a prompt for this session: BOS first when the context is empty, special tokens parsed. */
    public int[] encodePrompt(String prompt) {
        return model.codec().encode(prompt, nHistory == 0, true);
    }

    /** Ends the running generation and frees the KV cache. Idempotent; the session cannot be used afterwards. */
    @Override
    public void close() {
        if (closed) return;
        try {
            endActive();
        } finally {
            closed = true;
            model.freeSequence(seq);
        }
    }

    public boolean isClosed() { return closed; }

    // ---- for Generation and ChatSession ------------------------------------------------------------------

    private void checkOpen() {
        if (closed) throw new IllegalStateException("the session was closed");
        if (model.isClosed()) throw new ModelClosedException("the model was closed");
    }

    int vocabSize() { return logits.length; }

    TextCodec codec() { return model.codec(); }

    float[] logits() { return logits; }

    boolean cancelRequested() { return cancel; }

    /** A request ended: a cancel pending for it is used up. */
    void clearCancel() { cancel = false; }

    void setRoomMaker(RoomMaker m) { roomMaker = m; }

    RoomMaker roomMaker() { return roomMaker; }

    StepScheduler scheduler() { return model.scheduler(); }

    /** The sampled token that has not been evaluated yet, or -1. */
    int pending() { return pending; }

    void setPending(int id) {
        pending = id;
        push(id);
        logitsValid = false;
    }

    void ended(Generation g) {
        if (active == g) active = null;
    }

    private void endActive() {
        if (active != null) active.close();
        active = null;
    }

    /** Makes the images of the next prompt known: first placeholder id to embeddings. */
    void registerImages(java.util.Map<Integer, float[][]> m) {
        if (images.size() > 4096) images.clear(); // a long-lived session: forget images no longer in any prompt
        images.putAll(m);
    }

    /** Tokens of the context that equal the start of {@code ids}. */
    int commonPrefix(int[] ids) {
        int p = 0;
        while (p < nHistory && p < ids.length && history[p] == ids[p]) p++;
        return p;
    }

    /**
     * Makes the context a prefix of {@code ids} and returns the rest of {@code ids}, to be evaluated next. The longest
     * common prefix of the context (pending token included) and {@code ids} is kept; when the context goes beyond it,
     * the sequence is rewound to the first differing position ({@link Inference.Sequence#truncate}), or, when its
     * cache cannot rewind that far (a sliding-window ring already overwritten), emptied so everything is evaluated
     * again. At least one token is always left to evaluate unless the context already is {@code ids} with valid logits.
     */
    int[] keepCommonPrefix(int[] ids) {
        checkOpen();
        endActive();
        return reseat(ids);
    }

    /** {@link #keepCommonPrefix} without ending the running generation (a chat making room in the middle of a reply). */
    int[] reseat(int[] ids) {
        int p = commonPrefix(ids);
        if (p == nHistory && (p < ids.length || pending >= 0 || logitsValid)) {
            return Arrays.copyOfRange(ids, p, ids.length);
        }
        p = Math.min(p, ids.length - 1); // the logits of ids' last position are needed: evaluate at least it
        if (p < 0) p = 0;
        while (p > 0 && ids[p] < 0 && !images.containsKey(ids[p])) p--; // never cut into an image: it is evaluated whole
        int evaluated = seq.position();
        if (p < evaluated && !seq.truncate(p)) p = 0;
        if (p == 0) seq.reset();
        pending = -1;
        nHistory = p;
        logitsValid = false;
        return Arrays.copyOfRange(ids, p, ids.length);
    }

    /** Throws if {@code ids} cannot be evaluated after the context (too long, ids outside the vocabulary). */
    void checkPrompt(int[] ids) {
        if (ids.length > contextLeft()) {
            throw new ContextOverflowException("the prompt has " + ids.length + " tokens but the context has room for "
                    + contextLeft() + " (" + model.contextSize() + " in all, " + nHistory + " used); use a larger context size",
                    nHistory + ids.length, model.contextSize());
        }
        for (int id : ids) {
            if (id < 0 && !images.isEmpty()) continue; // an image placeholder, checked when evaluated
            if (id < 0 || id >= logits.length) throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, " + logits.length + ")");
        }
        if (ids.length == 0 && pending < 0 && !logitsValid) {
            throw new IllegalArgumentException("empty prompt and nothing evaluated yet: nothing to predict from");
        }
    }

    /**
     * Evaluates the pending token (if any) and {@code ids} in chunks of the model's batch size, checking for a cancel
     * before each chunk and reporting progress after it; returns how many tokens were evaluated (fewer than all when
     * cancelled: then the context ends with the last evaluated chunk).
     */
    int evaluatePrompt(int[] ids, GenerationOptions.PromptProgress progress) {
        checkPrompt(ids);
        boolean hadPending = pending >= 0; // in the history already, not in the cache
        int withPending = ids.length + (hadPending ? 1 : 0);
        if (withPending == 0) return 0;
        int[] all = new int[withPending];
        if (hadPending) all[0] = pending;
        System.arraycopy(ids, 0, all, hadPending ? 1 : 0, ids.length);
        int chunk = model.batchSize(), done = 0;
        while (done < all.length) {
            if (cancel) break;
            if (all[done] < 0) { // an image: its soft tokens in one non-causal step
                float[][] e = images.get(all[done]);
                if (e == null || done + e.length > all.length) {
                    throw new IllegalArgumentException("image placeholder " + all[done] + " at prompt index " + done + " without its image");
                }
                model.checkFileUnchangedSoon();
                logitsValid = false;
                model.scheduler().exclusive(() -> seq.evaluateImage(e));
                for (int i = done; i < done + e.length; i++) push(all[i]);
                if (done == 0) pending = -1;
                done += e.length;
                if (progress != null) progress.update(done, all.length);
                continue;
            }
            int n = 0;
            while (n < chunk && done + n < all.length && all[done + n] >= 0) n++;
            evaluate(all, done, n);
            for (int i = done; i < done + n; i++) if (!(hadPending && i == 0)) push(all[i]);
            if (done == 0) pending = -1;
            done += n;
            if (progress != null) progress.update(done, all.length);
        }
        return done;
    }

    /** Evaluates the pending token as a decode step (batched with other sessions'); false if it does not fit the context. */
    boolean evaluatePending() {
        if (pending < 0) return true;
        if (seq.position() + 1 > model.contextSize()) return false;
        model.checkFileUnchangedSoon(); // before the pending token leaves pending: a refusal leaves the session as it was
        one[0] = pending;
        pending = -1;
        evaluate(one, 0, 1);
        return true;
    }

    private void evaluate(int[] ids, int off, int n) {
        model.checkFileUnchangedSoon(); // a mapped file changed during a long prompt or reply: refuse the next step
        logitsValid = false;
        model.scheduler().evaluate(seq, ids, off, n, logits);
        logitsValid = true;
    }

    private void push(int id) {
        if (nHistory == history.length) history = Arrays.copyOf(history, nHistory * 2);
        history[nHistory++] = id;
    }
}
