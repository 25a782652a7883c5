package org.jgemma.cpu;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jgemma.backend.BackendUnavailableException;
import org.junit.jupiter.api.Test;

/** The CPU backend checks the heap before a session's KV cache is allocated (a raw OutOfMemoryError before). */
class CpuCheckFitsTest {
    @Test
    void aCacheLargerThanTheHeapIsRefusedWithTheNumbers() {
        try (CpuBackend b = new CpuBackend(1)) {
            long kv = Runtime.getRuntime().maxMemory() / 4 + 1; // float32 elements: just over the heap
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> b.checkFits(0, kv, 1 << 20));
            assertTrue(e.getMessage().contains("MiB of Java heap") && e.getMessage().contains("smaller context")
                    && e.getMessage().contains("-Xmx"), e.getMessage());
            b.checkFits(1L << 40, 1024, 1 << 20); // weights are mapped, not on the heap: any size fits
        }
    }
}
