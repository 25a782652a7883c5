package org.jgemma.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A persistent pool of {@code n - 1} daemon workers plus the calling thread. {@link #run} hands every worker the
 * same {@link Task} with its index and waits until all are done; nothing is allocated per call. Idle workers spin
 * briefly (ops follow each other within microseconds during a step) and then park.
 */
final class WorkerPool implements AutoCloseable {
    /** Work for one parallel region: worker {@code w} of {@code n} does its share. */
    interface Task {
        void run(int w, int n);

        /**
         * True if the caller's {@code run(0, n)} leaves nothing undone whatever the other workers did (work is claimed
         * dynamically): then a worker that has not started by the time the caller returns is skipped instead of
         * waited for (on a shared machine a parked or preempted worker can take milliseconds to wake).
         */
        default boolean dynamic() {
            return false;
        }
    }

    /** Gate bit: set by the caller once it stops admitting late workers (dynamic tasks). */
    private static final long CLOSED = 1L << 62;

    private static final int SPINS = 20_000;

    private final int n;
    private final Thread[] threads;
    private volatile Task task;
    private volatile long generation;
    private final AtomicInteger pending = new AtomicInteger();
    /** (generation << 16) | workers admitted, plus CLOSED: a worker runs a task only if it enters this gate. */
    private final java.util.concurrent.atomic.AtomicLong gate = new java.util.concurrent.atomic.AtomicLong();
    /** Admitted workers that have finished the current task. */
    private final AtomicInteger done = new AtomicInteger();
    private volatile boolean closed;
    private volatile Throwable failure;
    private volatile Thread caller;
    /** Per worker: true while it may be parked (the caller unparks only those; unpark costs a syscall). */
    private final java.util.concurrent.atomic.AtomicIntegerArray sleeping;

    WorkerPool(int n) {
        this.n = Math.max(1, n);
        threads = new Thread[this.n - 1];
        sleeping = new java.util.concurrent.atomic.AtomicIntegerArray(this.n);
        for (int i = 1; i < this.n; i++) {
            int w = i;
            Thread t = new Thread(() -> loop(w), "jgemma-cpu-" + i);
            t.setDaemon(true);
            threads[i - 1] = t;
            t.start();
        }
    }

    int size() {
        return n;
    }

    /** Runs {@code t} on all workers (the caller is worker 0) and returns when all have finished. */
    void run(Task t) {
        if (closed) throw new IllegalStateException("the CPU backend was closed");
        if (n == 1) {
            t.run(0, 1);
            return;
        }
        caller = Thread.currentThread();
        failure = null;
        long gen = generation + 1;
        done.set(0);
        gate.set(gen << 16); // open, nobody admitted; published before the task and the generation
        task = t;
        generation = gen;
        for (int i = 1; i < n; i++) {
            if (sleeping.get(i) != 0) LockSupport.unpark(threads[i - 1]);
        }
        boolean dynamic = t.dynamic();
        try {
            t.run(0, n);
        } finally {
            int expected = n - 1; // static tasks: every worker must run its share
            if (dynamic) { // close the gate: workers not admitted yet will skip this task
                long g = gate.getAndAdd(CLOSED);
                expected = (int) (g & 0xFFFF);
            }
            int spins = 0;
            while (done.get() < expected) {
                if (closed && allExited()) break; // closed under us: the workers left without counting in; never spin forever
                if (++spins < SPINS) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 50_000);
            }
            if (done.get() < expected && failure == null) {
                failure = new IllegalStateException("the CPU backend was closed while a step ran");
            }
            task = null;
        }
        Throwable f = failure;
        if (f != null) {
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error er) throw er;
            throw new RuntimeException(f);
        }
    }

    private void loop(int w) {
        long seen = 0;
        while (!closed) {
            int spins = 0;
            while (generation == seen && !closed) {
                if (++spins < SPINS) {
                    Thread.onSpinWait();
                } else {
                    sleeping.set(w, 1); // then re-check: a caller that missed the flag has already bumped generation
                    if (generation == seen && !closed) LockSupport.park(this);
                    sleeping.set(w, 0);
                }
            }
            if (closed) return;
            long gen = generation;
            seen = gen;
            Task t = task;
            if (!enter(gen)) continue; // the caller finished this dynamic task without us
            try {
                if (t != null) t.run(w, n);
            } catch (Throwable e) {
                failure = e;
            } finally {
                done.incrementAndGet();
                LockSupport.unpark(caller);
            }
        }
    }

    /** Admits this worker to generation {@code gen}'s task unless the gate moved on or was closed. */
    private boolean enter(long gen) {
        while (true) {
            long g = gate.get();
            if ((g & CLOSED) != 0 || (g >>> 16) != gen) return false;
            if (gate.compareAndSet(g, g + 1)) return true;
        }
    }

    private boolean allExited() {
        for (Thread th : threads) if (th.isAlive()) return false;
        return true;
    }

    @Override
    public void close() {
        closed = true;
        for (Thread th : threads) LockSupport.unpark(th);
    }
}
