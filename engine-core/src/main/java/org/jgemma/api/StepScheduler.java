package org.jgemma.api;

import java.util.ArrayDeque;

/**
 * Runs every step of one model's sequences on its backend, one step at a time, and batches decode steps across
 * sessions (continuous batching, as llama-server's slots and vLLM's scheduler do): a thread that asks for a step
 * queues it; whichever waiting thread finds the backend idle becomes the leader, takes a batch from the queue, runs
 * it, and hands each request its result. A batch is either up to {@code maxParallel} one-token decode requests of
 * different sequences (one {@link Inference#decodeBatch} step, each weight byte read once for all of them) or one
 * other request alone (a prompt chunk, an allocation, a free). Decode batches and other requests alternate when both
 * wait, so a long prompt, evaluated a chunk at a time, does not stall the sequences that are generating, and a new
 * sequence joins the decode batch at the next step boundary while a finished one simply stops asking.
 *
 * <p>The leader of a decode batch waits a little (a quarter of the last step, at most 5 ms) for the other sequences
 * that are generating to queue their next token, so they share the step instead of running one after the other.
 *
 * <p>{@link #close} fails what is queued with {@link ModelClosedException}, waits for the running step, and only
 * then lets the caller close the backend: no step ever runs on a closed backend.
 */
final class StepScheduler {
    private static final long MAX_GATHER_NANOS = 5_000_000;

    private final Inference inference;
    private final int maxParallel;
    private final ArrayDeque<Request> decodes = new ArrayDeque<>(), others = new ArrayDeque<>();
    private boolean running, closed, lastWasDecode;
    private int decoding;        // sequences between the start and the end of a generation's token loop
    private long lastStepNanos;
    private long steps, batchedRows, decodeSteps; // statistics: steps run, decode rows in them, decode steps
    // the leader's batch (only the leader touches these, outside the monitor)
    private final Request[] batch;
    private final Inference.Sequence[] seqs;
    private final int[] tokens;
    private final float[][] outs;

    StepScheduler(Inference inference) {
        this.inference = inference;
        this.maxParallel = Math.max(1, inference.maxParallel());
        batch = new Request[maxParallel];
        seqs = new Inference.Sequence[maxParallel];
        tokens = new int[maxParallel];
        outs = new float[maxParallel][];
    }

    /** One queued piece of work: an evaluation of {@code ids[off .. off+n)} of {@code seq}, or {@code work} alone. */
    private static final class Request {
        final Inference.Sequence seq;
        final int[] ids;
        final int off, n;
        final float[] logits;
        final Runnable work;
        boolean done;
        Throwable error;

        Request(Inference.Sequence seq, int[] ids, int off, int n, float[] logits, Runnable work) {
            this.seq = seq;
            this.ids = ids;
            this.off = off;
            this.n = n;
            this.logits = logits;
            this.work = work;
        }

        boolean decode() {
            return work == null && n == 1;
        }
    }

    int maxParallel() { return maxParallel; }

    /** Evaluates {@code ids[off .. off+n)} at the sequence's next positions; the last one's logits into {@code logits}. */
    void evaluate(Inference.Sequence seq, int[] ids, int off, int n, float[] logits) {
        submit(new Request(seq, ids, off, n, logits, null));
    }

    /** Runs {@code work} with the backend to itself (allocations, frees, all-position logits). */
    void exclusive(Runnable work) {
        submit(new Request(null, null, 0, 0, null, work));
    }

    /** A sequence entered its token loop: its decode requests will come one per step. */
    synchronized void decodingStarted() {
        decoding++;
    }

    synchronized void decodingEnded() {
        decoding--;
        notifyAll();
    }

    /** Steps run (all kinds), the decode rows in them, and the decode steps (rows / decode steps: the mean decode batch). */
    synchronized long[] statistics() {
        return new long[] {steps, batchedRows, decodeSteps};
    }

    synchronized boolean isClosed() {
        return closed;
    }

    private void submit(Request r) {
        boolean interrupted = false;
        synchronized (this) {
            if (closed) throw closedException();
            (r.decode() ? decodes : others).add(r);
            notifyAll();
        }
        try {
            while (true) {
                int count;
                synchronized (this) {
                    while (!r.done && running) {
                        try {
                            wait();
                        } catch (InterruptedException e) {
                            interrupted = true; // a step is short: finish the request, keep the flag for the caller
                        }
                    }
                    if (r.done) break;
                    running = true;
                    count = pickBatch();
                    if (count == 0) { // closed while gathering: close() failed the queue, r included
                        running = false;
                        notifyAll();
                        continue;
                    }
                }
                Throwable err = null;
                long t0 = System.nanoTime();
                try {
                    runBatch(count);
                } catch (Throwable e) {
                    err = e;
                }
                synchronized (this) {
                    lastStepNanos = System.nanoTime() - t0;
                    steps++;
                    if (batch[0].decode()) {
                        batchedRows += count;
                        decodeSteps++;
                    }
                    for (int i = 0; i < count; i++) {
                        batch[i].error = err;
                        batch[i].done = true;
                        batch[i] = null;
                        seqs[i] = null;
                        outs[i] = null;
                    }
                    running = false;
                    notifyAll();
                }
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
        Throwable e = r.error;
        if (e instanceof RuntimeException re) throw re;
        if (e instanceof Error er) throw er;
        if (e != null) throw new JGemmaException("step failed: " + e, e);
    }

    /** Under the monitor, as leader: moves the next batch into {@link #batch}; 0 if the model was closed meanwhile. */
    private int pickBatch() {
        boolean decodeTurn = !decodes.isEmpty() && (others.isEmpty() || !lastWasDecode);
        if (!decodeTurn) {
            lastWasDecode = false;
            batch[0] = others.poll();
            return 1;
        }
        // gather: let the other generating sequences queue their token (they are sampling it now)
        long deadline = System.nanoTime() + Math.min(MAX_GATHER_NANOS, lastStepNanos / 4);
        while (decodes.size() < Math.min(maxParallel, decoding) && !closed) {
            long left = deadline - System.nanoTime();
            if (left <= 0) break;
            try {
                wait(left / 1_000_000, (int) (left % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (closed) return 0;
        lastWasDecode = true;
        int count = 0;
        while (count < maxParallel && !decodes.isEmpty()) {
            Request d = decodes.poll();
            boolean dup = false;
            for (int i = 0; i < count; i++) dup |= batch[i].seq == d.seq;
            if (dup) { // one sequence cannot take two rows of a step: back to the queue for the next one
                decodes.addFirst(d);
                break;
            }
            batch[count++] = d;
        }
        return count;
    }

    private void runBatch(int count) {
        Request first = batch[0];
        if (first.work != null) {
            first.work.run();
        } else if (count == 1) {
            first.seq.evaluate(first.ids, first.off, first.n, first.logits);
        } else {
            for (int i = 0; i < count; i++) {
                seqs[i] = batch[i].seq;
                tokens[i] = batch[i].ids[batch[i].off];
                outs[i] = batch[i].logits;
            }
            inference.decodeBatch(seqs, tokens, count, outs);
        }
    }

    /**
     * Fails what is queued, waits for the running step, and marks the scheduler closed: later requests throw
     * {@link ModelClosedException}. Returns false if it was closed already.
     */
    boolean close() {
        boolean interrupted = false;
        synchronized (this) {
            if (closed) return false;
            closed = true;
            for (ArrayDeque<Request> q : java.util.List.of(decodes, others)) {
                for (Request r : q) {
                    r.error = closedException();
                    r.done = true;
                }
                q.clear();
            }
            notifyAll();
            while (running) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            running = true; // for good: nothing runs on the backend any more
        }
        if (interrupted) Thread.currentThread().interrupt();
        return true;
    }

    private static ModelClosedException closedException() {
        return new ModelClosedException("the model was closed");
    }
}
