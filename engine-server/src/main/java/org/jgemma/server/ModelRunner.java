package org.jgemma.server;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jgemma.api.Generation;
import org.jgemma.api.GenerationOptions;
import org.jgemma.api.GenerationResult;
import org.jgemma.api.Model;
import org.jgemma.api.ModelOptions;
import org.jgemma.api.ChatSession;
import org.jgemma.api.ContextOverflowException;
import org.jgemma.api.ContextPolicy;
import org.jgemma.api.JGemmaException;
import org.jgemma.api.ModelClosedException;
import org.jgemma.chat.ChatMessage;
import org.jgemma.chat.ChatTemplate;
import org.jgemma.gguf.GgufFile;
import org.jgemma.model.Gemma3Model;

/**
 * One loaded model and the requests running on it: the server's single adapter to engine-core's generation API.
 *
 * <p>Scheduling: at most {@code parallel} requests generate at once, each in a slot that owns one
 * {@link ChatSession} (one KV cache), made on first use and reused by later requests, so serving allocates no
 * backend memory per request (the slots' KV caches are freed when the model is unloaded). A chat request takes the
 * idle slot whose cache holds the longest prefix of its conversation (llama-server's {@code cache_prompt} slot
 * choice), so a client that sends its whole history each turn re-evaluates only the new messages. Up to
 * {@code queue} more requests wait for a slot; beyond that a request is refused with 503. The generating slots'
 * decode steps run batched (engine-core's step scheduler, up to {@code ModelOptions.maxParallel} sequences per
 * step). A request is cancelled between two tokens when its client goes away (the sink throws).
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
    private final List<ChatSession> idle = new ArrayList<>(); // guarded by itself
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
        boolean towerInFile;
        try (GgufFile f = GgufFile.open(info.path())) {
            template = ChatTemplate.from(f);
            towerInFile = org.jgemma.vision.VisionConfig.present(f);
        }
        Model model = Model.open(info.path(), ModelOptions.defaults().withBackend(cfg.backend()).withThreads(cfg.threads())
                .withContextSize(cfg.contextSize()).withMaxParallel(Math.min(cfg.parallel(), Gemma3Model.MAX_PARALLEL)));
        // the vision tower: one image's buffers, and its weights when they are in an mmproj beside the file (not in info.size())
        org.jgemma.vision.VisionMemory vision = model.visionMemory();
        long visionBytes = vision.scratchBytes() + (towerInFile ? 0 : vision.weightBytes());
        return new ModelRunner(info, model, template, cfg.parallel(), cfg.queue(),
                estimateBytes(info, model.contextSize(), cfg.parallel()) + visionBytes);
    }

    /** Weights (the file) plus a float KV cache per slot: 2 x layers x ctx x kv heads x head dim x 4 bytes. */
    static long estimateBytes(ModelInfo info, int ctx, int parallel) {
        ModelInfo.Details d = info.details();
        long kv = 2L * d.layers() * ctx * d.kvHeads() * d.headDim() * Float.BYTES;
        return info.size() + kv * parallel;
    }

    ModelInfo info() { return info; }

    Model model() { return model; }

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
        return job.messages() == null ? model.tokenize(job.rawPrompt(), true, true) : template.encode(model.tokenizer(), job.messages(), true, false);
    }

    /**
     * Runs a job to its end in a slot, streaming text pieces to {@code sink}.
     *
     * @throws ApiException 503 when every slot is busy and the queue is full; 400 when the prompt does not fit
     * @throws IOException  when the sink failed (the client went away); the generation has been cancelled
     */
    Outcome run(GenerationJob job, Sink sink) throws IOException, InterruptedException {
        GenerationOptions opts = job.options();
        if (job.messages() != null && (job.messages().isEmpty() || !job.messages().getLast().role().equals("user"))) {
            throw ApiException.badRequest("the last message must be the user's (continuing an assistant message is not supported)");
        }
        if (job.messages() != null && job.messages().stream().anyMatch(ChatMessage::hasImages)) checkVision();
        int[] ids;
        try {
            ids = encode(job);
        } catch (JGemmaException e) {
            throw ApiException.badRequest("the chat template refused the messages: " + e.getMessage());
        }
        int ctx = job.numCtx() > 0 ? Math.min(job.numCtx(), contextSize()) : contextSize();
        if (job.messages() == null || ctx < contextSize()) {
            // raw prompts and a request's smaller num_ctx: the prompt must fit as it is (chats drop their oldest turns)
            if (ids.length >= ctx) throw overflow(ids.length, ctx);
            int room = ctx - ids.length;
            if (ctx < contextSize() && (opts.maxTokens() <= 0 || opts.maxTokens() > room)) opts = opts.withMaxTokens(room);
            if (ctx < contextSize()) opts = opts.withContextPolicy(ContextPolicy.FAIL);
        }
        if (!admission.tryAcquire()) {
            throw new ApiException(503, "model '" + info.name() + "' is busy: " + running() + " requests generating and "
                    + (busy() - running()) + " waiting (--parallel " + parallel + ", --queue " + queue + "); try again later",
                    "server_busy");
        }
        try {
            slots.acquire();
            ChatSession slot = null;
            try {
                if (closed) throw new ApiException(503, "model '" + info.name() + "' was unloaded", "model_unloaded");
                slot = takeSlot(job.cachePrompt() ? job.messages() : null);
                running.incrementAndGet();
                try {
                    return generate(slot, job, ids, opts, sink);
                } finally {
                    running.decrementAndGet();
                }
            } finally {
                if (slot != null) {
                    synchronized (idle) {
                        idle.add(slot);
                    }
                }
                slots.release();
            }
        } finally {
            admission.release();
        }
    }

    /**
     * A request with images needs a vision tower (in the model file, or a {@code *mmproj*.gguf} next to it): without one
     * it is the client's error, a 400 as Ollama answers a capability the model lacks (server/images.go
     * CheckCapabilities: "does not support vision"). The tower is loaded here, before a slot is taken, so a broken
     * projector file is a 500 naming it rather than an error in the middle of a generation.
     */
    private void checkVision() {
        if (!model.hasVision()) {
            throw ApiException.badRequest("model '" + info.name() + "' does not support vision: it has no vision tower (no v.* / mm.*"
                    + " tensors in its file and no *mmproj*.gguf next to it), so it cannot take images");
        }
        try {
            model.vision();
        } catch (IOException | RuntimeException e) {
            throw new ApiException(500, "cannot load the vision tower of model '" + info.name() + "': " + e.getMessage());
        }
    }

    private static ApiException overflow(int tokens, int ctx) {
        return new ApiException(400, "the prompt has " + tokens + " tokens but the context holds " + ctx
                + " (with room for at least one generated token); shorten it or raise num_ctx / --ctx-size",
                "context_length_exceeded");
    }

    /** The idle slot whose KV cache holds the longest prefix of {@code conversation}, or a new one. */
    private ChatSession takeSlot(List<ChatMessage> conversation) {
        synchronized (idle) {
            ChatSession best = null;
            int bestLen = -1;
            for (ChatSession c : idle) {
                int len = conversation == null ? 0 : c.reusablePrefix(conversation);
                if (len > bestLen) {
                    best = c;
                    bestLen = len;
                }
            }
            if (best != null) {
                idle.remove(best);
                return best;
            }
        }
        sessions.incrementAndGet();
        return model.continueChat(List.of());
    }

    private Outcome generate(ChatSession slot, GenerationJob job, int[] ids, GenerationOptions opts, Sink sink) throws IOException {
        Generation g;
        try {
            if (job.messages() != null) {
                if (!job.cachePrompt()) slot.session().reset(); // a cold evaluation, as `jgemma run` does
                g = slot.start(job.messages(), opts);
            } else {
                slot.session().reset();
                g = slot.session().start(ids, opts);
            }
        } catch (ContextOverflowException e) {
            throw new ApiException(400, e.getMessage() + "; shorten it or raise --ctx-size", "context_length_exceeded");
        } catch (ModelClosedException e) {
            throw new ApiException(503, "model '" + info.name() + "' was unloaded", "model_unloaded");
        } catch (JGemmaException e) {
            throw ApiException.badRequest(e.getMessage());
        }
        try {
            String piece;
            while ((piece = g.step()) != null) {
                if (!piece.isEmpty()) sink.piece(piece);
            }
        } catch (IOException | RuntimeException e) {
            g.close(); // ends it as cancelled
            cancelled.incrementAndGet();
            if (e instanceof ModelClosedException) throw new ApiException(503, "model '" + info.name() + "' was unloaded", "model_unloaded");
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
        synchronized (idle) {
            for (ChatSession c : idle) c.close();
            idle.clear();
        }
        model.close();
    }
}
