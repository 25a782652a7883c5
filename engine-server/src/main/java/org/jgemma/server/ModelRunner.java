package org.jgemma.server;

import java.io.IOException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jgemma.api.Generation;
import org.jgemma.api.GenerationOptions;
import org.jgemma.api.GenerationResult;
import org.jgemma.api.Model;
import org.jgemma.api.ModelOptions;
import org.jgemma.api.Session;
import org.jgemma.chat.ChatTemplate;
import org.jgemma.chat.ChatTemplateException;
import org.jgemma.gguf.GgufFile;

/**
 * One loaded model and the requests running on it: the server's single adapter to engine-core's generation API.
 *
 * <p>Scheduling: at most {@code parallel} requests generate at once, each in a slot that owns one {@link Session}
 * (one KV cache), created on first use and reused for later requests, so serving allocates nothing per request;
 * up to {@code queue} more wait for a slot; beyond that a request is refused with 503. The slots' steps take turns
 * on the model's backend (engine-core runs one step at a time per model today; with batched sessions they will
 * advance together). A request is cancelled between two tokens when its client goes away (the sink throws).
 */
final class ModelRunner implements AutoCloseable {
    /** Where the generated text goes; an {@link IOException} (the client went away) cancels the generation. */
    interface Sink {
        void piece(String text) throws IOException;
    }

    private final ModelInfo info;
    private final Model model;
    private final ChatTemplate template;
    private final int parallel;
    private final int queue;
    private final Semaphore admission; // slots + queue places
    private final Semaphore slots;
    private final ConcurrentLinkedQueue<Session> idle = new ConcurrentLinkedQueue<>();
    private final AtomicInteger sessions = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicLong cancelled = new AtomicLong();
    private final long estimatedBytes;
    private volatile boolean closed;

    private ModelRunner(ModelInfo info, Model model, ChatTemplate template, int parallel, int queue, long estimatedBytes) {
        this.info = info;
        this.model = model;
        this.template = template;
        this.parallel = parallel;
        this.queue = queue;
        this.admission = new Semaphore(parallel + queue, true);
        this.slots = new Semaphore(parallel, true);
        this.estimatedBytes = estimatedBytes;
    }

    /** Opens the model on the configured backend, with a context of {@code cfg.contextSize()} tokens per slot. */
    static ModelRunner load(ModelInfo info, ServerConfig cfg) throws IOException {
        ChatTemplate template;
        try (GgufFile f = GgufFile.open(info.path())) {
            template = ChatTemplate.from(f);
        }
        Model model = Model.open(info.path(), ModelOptions.defaults().withBackend(cfg.backend()).withThreads(cfg.threads())
                .withContextSize(cfg.contextSize()));
        return new ModelRunner(info, model, template, cfg.parallel(), cfg.queue(),
                estimateBytes(info, model.contextSize(), cfg.parallel()));
    }

    /** Weights (the file) plus a float KV cache per slot: 2 x layers x ctx x kv heads x head dim x 4 bytes. */
    static long estimateBytes(ModelInfo info, int ctx, int parallel) {
        ModelInfo.Details d = info.details();
        long kv = 2L * d.layers() * ctx * d.kvHeads() * d.headDim() * Float.BYTES;
        return info.size() + kv * parallel;
    }

    ModelInfo info() { return info; }

    Model model() { return model; }

    ChatTemplate template() { return template; }

    int contextSize() { return model.contextSize(); }

    long estimatedBytes() { return estimatedBytes; }

    /** Requests generating now. */
    int running() { return running.get(); }

    /** Requests generating or waiting for a slot. */
    int busy() { return parallel + queue - admission.availablePermits(); }

    /** Sessions (KV caches) this model has made: at most {@code parallel}, however many requests it served. */
    int sessionsCreated() { return sessions.get(); }

    /** Generations ended early because their client went away. */
    long cancelledCount() { return cancelled.get(); }

    /** The prompt's token ids: the chat template's rendering, or the raw text (BOS first, special tokens parsed). */
    int[] encode(GenerationJob job) {
        if (job.messages() == null) return model.tokenize(job.rawPrompt(), true, true);
        try {
            return template.encode(model.tokenizer(), job.messages(), true, false);
        } catch (ChatTemplateException e) {
            throw ApiException.badRequest("the chat template refused the messages: " + e.getMessage());
        }
    }

    /**
     * Runs a job to its end in a slot, streaming text pieces to {@code sink}.
     *
     * @throws ApiException 503 when every slot is busy and the queue is full; 400 when the prompt does not fit
     * @throws IOException  when the sink failed (the client went away); the generation has been cancelled
     */
    Outcome run(GenerationJob job, Sink sink) throws IOException, InterruptedException {
        int ctx = job.numCtx() > 0 ? Math.min(job.numCtx(), contextSize()) : contextSize();
        int[] ids = encode(job);
        if (ids.length >= ctx) {
            throw new ApiException(400, "the prompt has " + ids.length + " tokens but the context holds " + ctx
                    + " (with room for at least one generated token); shorten it or raise num_ctx / --ctx-size (at most "
                    + contextSize() + " here)", "context_length_exceeded");
        }
        GenerationOptions opts = job.options();
        int room = ctx - ids.length; // tokens that fit after the prompt
        if (ctx < contextSize() && (opts.maxTokens() <= 0 || opts.maxTokens() > room)) opts = opts.withMaxTokens(room);
        if (!admission.tryAcquire()) {
            throw new ApiException(503, "model '" + info.name() + "' is busy: " + running() + " requests generating and "
                    + (busy() - running()) + " waiting (--parallel " + parallel + ", --queue " + queue + "); try again later",
                    "server_busy");
        }
        try {
            slots.acquire();
            try {
                if (closed) throw new ApiException(503, "model '" + info.name() + "' was unloaded", "model_unloaded");
                Session s = idle.poll();
                if (s == null) {
                    s = model.newSession();
                    sessions.incrementAndGet();
                }
                running.incrementAndGet();
                try {
                    return generate(s, ids, opts, sink);
                } finally {
                    running.decrementAndGet();
                    idle.add(s);
                }
            } finally {
                slots.release();
            }
        } finally {
            admission.release();
        }
    }

    private Outcome generate(Session s, int[] ids, GenerationOptions opts, Sink sink) throws IOException {
        s.reset();
        Generation g = s.start(ids, opts);
        try {
            String piece;
            while ((piece = g.step()) != null) {
                if (!piece.isEmpty()) sink.piece(piece);
            }
        } catch (IOException | RuntimeException e) {
            g.close(); // ends it as cancelled
            cancelled.incrementAndGet();
            throw e;
        }
        GenerationResult r = g.result();
        return new Outcome(r.text(), r.promptTokens(), r.tokens().length, r.promptNanos(), r.generationNanos(), r.stopReason());
    }

    /** Whether nothing runs or waits on this model. */
    boolean idle() {
        return busy() == 0;
    }

    @Override
    public void close() {
        closed = true;
        Session s;
        while ((s = idle.poll()) != null) s.close();
        model.close();
    }
}
