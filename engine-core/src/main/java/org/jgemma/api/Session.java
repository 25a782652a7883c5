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
 * <p>Thread-safety: a session is used by one thread at a time; only {@link #cancel()} may be called from any
 * thread (it stops the running generation before its next token). Sessions of one {@link Model} may live on
 * different threads: their steps take turns on the model's backend.
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
    private Generation active;

    Session(Model model) {
        this.model = model;
        this.seq = model.inference().newSequence();
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

    /** Asks the running generation to stop before its next token (from any thread). */
    public void cancel() {
        cancel = true;
    }

    /** Empties the context: the next prompt starts at position 0 with BOS. */
    public void reset() {
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
        endActive();
        cancel = false;
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

    @Override
    public void close() {
        endActive();
    }

    // ---- for Generation and ChatSession ------------------------------------------------------------------

    int vocabSize() { return logits.length; }

    TextCodec codec() { return model.codec(); }

    float[] logits() { return logits; }

    boolean cancelRequested() { return cancel; }

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

    /**
     * Makes the context a prefix of {@code ids} and returns the rest of {@code ids}, to be evaluated next. The longest
     * common prefix of the context (pending token included) and {@code ids} is kept; when the context goes beyond it,
     * the sequence is rewound to the first differing position ({@link Inference.Sequence#truncate}), or, when its
     * cache cannot rewind that far (a sliding-window ring already overwritten), emptied so everything is evaluated
     * again. At least one token is always left to evaluate unless the context already is {@code ids} with valid logits.
     */
    int[] keepCommonPrefix(int[] ids) {
        endActive();
        int p = 0;
        while (p < nHistory && p < ids.length && history[p] == ids[p]) p++;
        if (p == nHistory && (p < ids.length || pending >= 0 || logitsValid)) {
            return Arrays.copyOfRange(ids, p, ids.length);
        }
        p = Math.min(p, ids.length - 1); // the logits of ids' last position are needed: evaluate at least it
        if (p < 0) p = 0;
        int evaluated = seq.position();
        if (p < evaluated && !seq.truncate(p)) p = 0;
        if (p == 0) seq.reset();
        pending = -1;
        nHistory = p;
        logitsValid = false;
        return Arrays.copyOfRange(ids, p, ids.length);
    }

    /** Evaluates the pending token (if any) and {@code ids}; returns how many tokens were evaluated. */
    int evaluatePrompt(int[] ids) {
        int withPending = ids.length + (pending >= 0 ? 1 : 0);
        if (ids.length > contextLeft()) {
            throw new IllegalArgumentException("the prompt has " + ids.length + " tokens but the context has room for "
                    + contextLeft() + " (" + model.contextSize() + " in all, " + nHistory + " used); use a larger context size");
        }
        for (int id : ids) {
            if (id < 0 || id >= logits.length) throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, " + logits.length + ")");
        }
        if (withPending == 0) {
            if (!logitsValid) throw new IllegalArgumentException("empty prompt and nothing evaluated yet: nothing to predict from");
            return 0;
        }
        int[] all = new int[withPending];
        int off = 0;
        if (pending >= 0) all[off++] = pending;
        System.arraycopy(ids, 0, all, off, ids.length);
        for (int id : ids) push(id);
        pending = -1;
        evaluate(all, 0, all.length);
        return withPending;
    }

    /** Evaluates the pending token; false if it does not fit the context. */
    boolean evaluatePending() {
        if (pending < 0) return true;
        if (seq.position() + 1 > model.contextSize()) return false;
        one[0] = pending;
        pending = -1;
        evaluate(one, 0, 1);
        return true;
    }

    private void evaluate(int[] ids, int off, int n) {
        synchronized (model.lock()) {
            seq.evaluate(ids, off, n, logits);
        }
        logitsValid = true;
    }

    private void push(int id) {
        if (nHistory == history.length) history = Arrays.copyOf(history, nHistory * 2);
        history[nHistory++] = id;
    }
}
