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
    }

    private static final int SPINS = 20_000;

    private final int n;
    private final Thread[] threads;
    private volatile Task task;
    private volatile long generation;
    private final AtomicInteger pending = new AtomicInteger();
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
        if (n == 1) {
            t.run(0, 1);
            return;
        }
        caller = Thread.currentThread();
        failure = null;
        pending.set(n - 1);
        task = t;
        generation++;
        for (int i = 1; i < n; i++) {
            if (sleeping.get(i) != 0) LockSupport.unpark(threads[i - 1]);
        }
        try {
            t.run(0, n);
        } finally {
            int spins = 0;
            while (pending.get() != 0) {
                if (++spins < SPINS) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 50_000);
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
            seen = generation;
            Task t = task;
            try {
                if (t != null) t.run(w, n);
            } catch (Throwable e) {
                failure = e;
            } finally {
                if (pending.decrementAndGet() == 0) LockSupport.unpark(caller);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread th : threads) LockSupport.unpark(th);
    }
}
