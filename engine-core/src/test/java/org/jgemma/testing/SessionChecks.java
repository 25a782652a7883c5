package org.jgemma.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jgemma.api.GenerationOptions;
import org.jgemma.api.GenerationResult;
import org.jgemma.api.Model;
import org.jgemma.api.ModelClosedException;
import org.jgemma.api.ModelOptions;
import org.jgemma.api.Session;
import org.jgemma.api.TokenListener;

/**
 * Checks of sessions on a model that every backend's tests run: the memory lifecycle (sessions and generate calls
 * give back exactly what they took) and batched decoding across sessions (the same greedy tokens as alone).
 */
public final class SessionChecks {
    private SessionChecks() {}

    public static Model open(String backend, String fixture, int ctx) throws IOException {
        return Model.open(Fixtures.file(fixture), ModelOptions.defaults().withBackend(backend).withContextSize(ctx).withThreads(2));
    }

    /**
     * Opens and closes {@code rounds} sessions (each evaluating a few tokens) and runs {@code rounds} {@code generate}
     * calls: the backend's allocated bytes return exactly to their value after load, and the heap and the process's
     * file descriptors stay flat.
     */
    public static void lifecycle(String backend, String fixture, int rounds) throws Exception {
        try (Model m = open(backend, fixture, 64)) {
            long afterLoad = m.allocatedBytes();
            assertTrue(afterLoad > 0, "the shared activations are counted: " + afterLoad);
            int[] prompt = {2, 105, 236, 107};
            GenerationOptions opts = GenerationOptions.greedy(2).withStopOnEog(false);
            Runnable round = () -> {
                try (Session s = m.newSession()) {
                    assertTrue(m.allocatedBytes() > afterLoad, "an open session holds its KV cache");
                    s.generate(prompt, opts, TokenListener.NONE);
                }
                m.generate("Hello", opts, TokenListener.NONE);
            };
            for (int i = 0; i < 20; i++) round.run(); // warm-up: JIT, scratch a backend grows once for itself (CUDA)
            long base = m.allocatedBytes(); // = afterLoad on reference, cpu and opencl; CUDA may hold a little more scratch
            assertTrue(base - afterLoad < 1 << 20, "one-time backend scratch " + (base - afterLoad) + " bytes");
            long heap0 = usedHeap();
            long fds0 = openFds();
            for (int i = 0; i < rounds; i++) {
                round.run();
                assertEquals(base, m.allocatedBytes(), "allocated bytes after round " + i);
            }
            long heap1 = usedHeap();
            long fds1 = openFds();
            assertTrue(heap1 - heap0 < 16L << 20, "heap grew by " + ((heap1 - heap0) >> 10) + " KiB over " + rounds + " rounds");
            if (fds0 >= 0) assertTrue(fds1 - fds0 <= 2, "open file descriptors " + fds0 + " -> " + fds1);
            System.err.printf("lifecycle %s: %d sessions + %d generate calls, allocated %d bytes before and after, heap %+d KiB, fds %d -> %d%n",
                    backend, rounds, rounds, base, (heap1 - heap0) >> 10, fds0, fds1);
        }
    }

    /**
     * {@code n} sessions on {@code n} threads generate greedily at the same time: each gets exactly the tokens it gets
     * alone, and the model's scheduler batched their decode steps (more than one row per decode step on average).
     */
    public static void batchedEqualsAlone(String backend, String fixture, int n, int tokens) throws Exception {
        try (Model m = open(backend, fixture, 128)) {
            GenerationOptions opts = GenerationOptions.greedy(tokens).withStopOnEog(false);
            List<int[]> prompts = new ArrayList<>();
            for (int i = 0; i < n; i++) prompts.add(new int[] {2, 105, 236 + 37 * i, 107 + i, 300 + 131 * i});
            List<int[]> alone = new ArrayList<>();
            for (int[] p : prompts) {
                try (Session s = m.newSession()) {
                    alone.add(s.generate(p, opts, TokenListener.NONE).tokens());
                }
            }
            long[] before = m.stepStatistics();
            CyclicBarrier start = new CyclicBarrier(n);
            ExecutorService pool = Executors.newFixedThreadPool(n);
            try {
                List<Future<GenerationResult>> results = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    int[] p = prompts.get(i);
                    results.add(pool.submit(() -> {
                        try (Session s = m.newSession()) {
                            start.await();
                            return s.generate(p, opts, TokenListener.NONE);
                        }
                    }));
                }
                for (int i = 0; i < n; i++) {
                    assertArrayEquals(alone.get(i), results.get(i).get(120, TimeUnit.SECONDS).tokens(), "sequence " + i + " batched vs alone");
                }
            } finally {
                pool.shutdownNow();
            }
            long[] after = m.stepStatistics();
            long steps = after[0] - before[0], rows = after[1] - before[1], decodeSteps = after[2] - before[2];
            System.err.printf("batched %s: %d sequences, %d steps, %d decode rows in %d decode steps%n", backend, n, steps, rows, decodeSteps);
            assertTrue(rows > (long) n * (tokens - 1) / 2 && steps < (long) n * tokens && decodeSteps < rows, "decode steps were batched: "
                    + steps + " steps (" + decodeSteps + " decode steps) for " + n + " x " + tokens + " tokens");
        }
    }

    /**
     * {@code trials} times: another thread generates, the model is closed under it; the generating thread ends with
     * {@link ModelClosedException} (never hangs), a second close does nothing, and the model refuses new sessions.
     */
    public static void closeWhileGenerating(String backend, String fixture, int trials) throws Exception {
        for (int trial = 0; trial < trials; trial++) {
            Model m = open(backend, fixture, 512);
            Session s = m.newSession();
            CountDownLatch generating = new CountDownLatch(1 + trial % 3); // close after 1, 2 or 3 tokens
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    s.generate(new int[] {2, 105}, GenerationOptions.greedy(0).withStopOnEog(false), (id, text) -> generating.countDown());
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            t.start();
            assertTrue(generating.await(60, TimeUnit.SECONDS));
            m.close();
            t.join(30_000);
            assertFalse(t.isAlive(), "trial " + trial + ": the generating thread ended");
            assertInstanceOf(ModelClosedException.class, failure.get(), "trial " + trial);
            m.close(); // a second close does nothing
            s.close(); // nor does closing a session of a closed model
            assertThrows(ModelClosedException.class, m::newSession);
        }
    }

    private static long usedHeap() throws InterruptedException {
        Runtime rt = Runtime.getRuntime();
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(50);
            best = Math.min(best, rt.totalMemory() - rt.freeMemory());
        }
        return best;
    }

    /** Open file descriptors of this process (Linux), or -1 where /proc/self/fd is missing. */
    private static long openFds() throws IOException {
        Path fd = Path.of("/proc/self/fd");
        if (!Files.isDirectory(fd)) return -1;
        try (Stream<Path> s = Files.list(fd)) {
            return s.count();
        }
    }
}
