package org.jgemma.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** The pool's contract: static tasks run every worker's share exactly once; dynamic tasks finish all claimed work. */
class WorkerPoolTest {

    @Test
    void staticTasksRunEveryShareOnce() {
        try (WorkerPool pool = new WorkerPool(3)) {
            AtomicIntegerArray runs = new AtomicIntegerArray(3);
            for (int rep = 0; rep < 2000; rep++) {
                pool.run((w, n) -> runs.incrementAndGet(w));
            }
            for (int w = 0; w < 3; w++) assertEquals(2000, runs.get(w), "runs of worker " + w);
        }
    }

    @Test
    void dynamicTasksCompleteAllItemsExactlyOnce() {
        try (WorkerPool pool = new WorkerPool(3)) {
            int items = 257;
            int[] hits = new int[items];
            AtomicInteger next = new AtomicInteger();
            WorkerPool.Task task = new WorkerPool.Task() {
                @Override
                public void run(int w, int n) {
                    for (int i = next.getAndIncrement(); i < items; i = next.getAndIncrement()) hits[i]++;
                }

                @Override
                public boolean dynamic() {
                    return true;
                }
            };
            for (int rep = 0; rep < 2000; rep++) {
                next.set(0);
                pool.run(task);
                // when run returns, every item is done and no worker is still writing
                for (int i = 0; i < items; i++) assertEquals(rep + 1, hits[i], "item " + i + " after call " + rep);
                // interleave a static task: a late worker must not run the dynamic one again
                pool.run((w, n) -> {});
            }
        }
    }

    @Test
    void failuresOfWorkersReachTheCaller() {
        try (WorkerPool pool = new WorkerPool(2)) {
            assertThrows(IllegalStateException.class, () -> pool.run((w, n) -> {
                if (w == 1) throw new IllegalStateException("worker 1");
            }));
            AtomicInteger ok = new AtomicInteger();
            pool.run((w, n) -> ok.incrementAndGet());
            assertEquals(2, ok.get());
        }
    }

    @Test
    void aClosedPoolRefusesWorkInsteadOfHanging() {
        WorkerPool pool = new WorkerPool(2);
        pool.close();
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> pool.run((w, n) -> {}));
    }
}
