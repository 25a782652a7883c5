package org.jgemma.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import org.jgemma.backend.Backend;
import org.jgemma.backend.reference.ReferenceBackend;
import org.jgemma.gguf.GgufFile;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Session rewind (truncate) on the ring KV cache, and the allocation-free decode step, on the tiny F32 fixture. */
class Gemma3SessionRewindTest {
    static GgufFile file;
    static Backend backend;
    static int[] prompt;

    @BeforeAll
    static void open() throws Exception {
        file = GgufFile.open(Fixtures.file("tiny/gemma3-tiny-f32.gguf"));
        backend = new ReferenceBackend();
        prompt = Fixtures.promptIds("tiny"); // 40 tokens; sliding window 8
    }

    @AfterAll
    static void close() {
        backend.close();
        file.close();
    }

    @Test
    void truncateThenContinueEqualsAFreshSession() {
        // batch 4: local layers keep 8 + 4 = 12 slots; rewinding is safe while highWater - p <= 12 - 8 + 1 = 5
        Gemma3Model m = Gemma3Model.load(file, backend, new Gemma3Model.Options(64, 4, false));
        int[] other = {7, 300, 12, 999, 45, 2};
        int p = 36;
        Gemma3Model.Session s = m.newSession();
        s.forward(prompt, false); // 40 tokens
        assertTrue(s.canTruncate(p));
        assertFalse(s.canTruncate(34), "6 positions back: the ring has overwritten position 34 - 8 + 1");
        s.truncate(p);
        assertEquals(p, s.position());
        float[] rewound = s.forward(other, true);

        int[] expectedIds = Arrays.copyOf(prompt, p + other.length);
        System.arraycopy(other, 0, expectedIds, p, other.length);
        float[] fresh = m.newSession().forward(expectedIds, true);
        int nv = m.vocabSize();
        float[] freshTail = Arrays.copyOfRange(fresh, p * nv, fresh.length);
        assertArrayEquals(freshTail, rewound, 1e-5f);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.truncate(30));
        assertTrue(e.getMessage().contains("reset"), e.getMessage());
        s.reset();
        assertTrue(s.canTruncate(0));
    }

    @Test
    void decodeStepsIntoACallerArrayAllocateNoMoreThanAConstant() {
        Gemma3Model m = Gemma3Model.load(file, backend, new Gemma3Model.Options(512, 16, false));
        Gemma3Model.Session s = m.newSession();
        float[] logits = new float[m.vocabSize()];
        int[] one = new int[1];
        // warm up (step keys, lambdas, JIT: C2 compiles the decode path's many small methods over hundreds of steps; on
        // a loaded machine later still): 6 rounds of the prompt and 80 steps, then the measured steps from a fresh prompt
        for (int round = 0; round < 7; round++) {
            s.reset();
            s.forward(prompt, 0, prompt.length, logits);
            if (round == 6) break;
            for (int i = 0; i < 80; i++) {
                one[0] = argmax(logits);
                s.forward(one, 0, 1, logits);
            }
        }
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        long before = mx.getThreadAllocatedBytes(tid);
        for (int i = 0; i < 50; i++) {
            one[0] = argmax(logits);
            s.forward(one, 0, 1, logits);
        }
        long allocated = mx.getThreadAllocatedBytes(tid) - before;
        // one vocab-sized array per step would be 50 x 4 KiB = 200 KiB; allow a small constant (JIT, bookkeeping)
        assertTrue(allocated < 4096, "50 decode steps allocated " + allocated + " bytes");
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
