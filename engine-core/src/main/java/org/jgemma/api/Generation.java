package org.jgemma.api;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.jgemma.sampling.Sampler;

/**
 * One generation in progress, pulled a token at a time: as an {@link Iterator} of non-empty text pieces (valid
 * UTF-8, stop strings removed), or with {@link #step()}. The prompt is evaluated when the generation is created.
 * Each step samples a token from the last logits and evaluates it before the next one is sampled, so a token that
 * ends the generation is never evaluated: it stays pending in the session and goes in front of the next prompt.
 * Single-threaded, like its session; {@link #cancel()} (or {@link Session#cancel()}) may be called from any thread and
 * ends it with {@link StopReason#CANCELLED} before its next token, or between two chunks of its prompt.
 */
public final class Generation implements Iterator<String>, AutoCloseable {
    private final Session session;
    private final GenerationOptions options;
    private final Sampler sampler;
    private final Utf8Assembler utf8 = new Utf8Assembler();
    private final StopMatcher stop;
    private final StringBuilder text = new StringBuilder();
    private final int promptTokens;
    private final long promptNanos;
    private final long startNanos;
    private int[] generated = new int[64];
    private int nGenerated;
    private StopReason reason;
    private long endNanos;
    private int lastToken = -1;
    private String nextPiece;
    private boolean decoding; // registered with the scheduler as a sequence in its token loop

    Generation(Session session, int[] promptIds, GenerationOptions options) {
        this.session = session;
        this.options = options;
        this.stop = new StopMatcher(options.stop());
        this.sampler = new Sampler(session.vocabSize(), options.sampling());
        int[] history = session.history();
        for (int i = Math.max(0, history.length - options.sampling().penaltyLastN()); i < history.length; i++) {
            if (history[i] >= 0) sampler.accept(history[i]); // image soft tokens are negative placeholders
        }
        long t0 = System.nanoTime();
        int expected = promptIds.length + (session.pending() >= 0 ? 1 : 0);
        this.promptTokens = session.evaluatePrompt(promptIds, options.promptProgress());
        for (int id : promptIds) if (id >= 0) sampler.accept(id);
        this.startNanos = System.nanoTime();
        this.promptNanos = startNanos - t0;
        if (promptTokens < expected || session.cancelRequested()) {
            finish(StopReason.CANCELLED, "");
        } else {
            session.scheduler().decodingStarted();
            decoding = true;
        }
    }

    /** Ends the generation before its next token, from any thread (the same as {@link Session#cancel()}). */
    public void cancel() {
        if (reason == null) session.cancel();
    }

    /** Prompt tokens evaluated (all of them unless it was cancelled during the prompt). */
    public int promptTokens() {
        return promptTokens;
    }

    /** Whether the generation has ended. */
    public boolean done() {
        return reason != null;
    }

    /** Why it ended, or null while it runs. */
    public StopReason stopReason() {
        return reason;
    }

    /** The token the last {@link #step()} produced, or -1. */
    public int lastToken() {
        return lastToken;
    }

    /** The seed the sampler uses (drawn at random when the options asked for a random one). */
    public long seed() {
        return sampler.seed();
    }

    /**
     * Produces one token and returns the text it adds (often empty: an unfinished character, text that may be a
     * stop string), or null once the generation has ended. The text that ending releases comes with the last step.
     */
    public String step() {
        if (reason != null) return null;
        try {
            return advance();
        } catch (RuntimeException | Error e) { // the model closed, the backend failed: this generation is over
            if (reason == null) end(StopReason.CANCELLED);
            throw e;
        }
    }

    private String advance() {
        lastToken = -1;
        if (session.cancelRequested()) return finish(StopReason.CANCELLED, "");
        if (!session.evaluatePending()) {
            Session.RoomMaker m = session.roomMaker();
            if (m == null || options.contextPolicy() == ContextPolicy.FAIL || !m.makeRoom(this)) {
                return finish(StopReason.CONTEXT_FULL, "");
            }
            if (session.cancelRequested()) return finish(StopReason.CANCELLED, "");
        }
        int id = sampler.sample(session.logits());
        sampler.accept(id);
        lastToken = id;
        if (nGenerated == generated.length) generated = Arrays.copyOf(generated, nGenerated * 2);
        generated[nGenerated++] = id;
        session.setPending(id);
        if (options.stopOnEog() && session.codec().isEog(id)) return finish(StopReason.END_OF_GENERATION, "");
        String piece = stop.push(utf8.push(session.codec().tokenBytes(id)));
        if (stop.stopped()) {
            end(StopReason.STOP_STRING);
            text.append(piece);
            return piece;
        }
        if (options.maxTokens() > 0 && nGenerated >= options.maxTokens()) return finish(StopReason.MAX_TOKENS, piece);
        text.append(piece);
        return piece;
    }

    private String finish(StopReason why, String piece) {
        String rest = piece + stop.push(utf8.flush()) + stop.flush();
        end(why);
        text.append(rest);
        return rest;
    }

    private void end(StopReason why) {
        reason = why;
        endNanos = System.nanoTime();
        if (decoding) {
            decoding = false;
            session.scheduler().decodingEnded();
        }
        session.clearCancel();
        session.ended(this);
    }

    /** Generated token ids so far (for a chat re-evaluating its context). */
    int[] generatedTokens() {
        return Arrays.copyOf(generated, nGenerated);
    }

    GenerationOptions options() {
        return options;
    }

    /** Ends the generation now (as cancelled) if it is still running. */
    @Override
    public void close() {
        if (reason == null) finish(StopReason.CANCELLED, "");
    }

    /** Runs to the end, handing every token to {@code listener}; returns the result. */
    public GenerationResult run(TokenListener listener) {
        String piece;
        while ((piece = step()) != null) {
            listener.onToken(lastToken, piece);
        }
        return result();
    }

    @Override
    public boolean hasNext() {
        while (nextPiece == null && reason == null) {
            String s = step();
            if (s != null && !s.isEmpty()) nextPiece = s;
        }
        return nextPiece != null;
    }

    @Override
    public String next() {
        if (!hasNext()) throw new NoSuchElementException("the generation has ended (" + reason + ")");
        String s = nextPiece;
        nextPiece = null;
        return s;
    }

    /** The output so far. */
    public String text() {
        return text.toString();
    }

    /** The result; the generation must have ended. */
    public GenerationResult result() {
        if (reason == null) throw new IllegalStateException("the generation is still running");
        return new GenerationResult(text.toString(), Arrays.copyOf(generated, nGenerated), promptTokens, reason, promptNanos,
                endNanos - startNanos);
    }
}
