package org.jgemma.backend.reference;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jgemma.backend.BackendUnavailableException;
import org.junit.jupiter.api.Test;

/** The reference backend checks the Java heap before a session's float32 KV cache is allocated (it had no check: #16). */
class ReferenceCheckFitsTest {
    @Test
    void aCacheLargerThanTheHeapIsRefusedWithTheNumbers() {
        try (ReferenceBackend b = new ReferenceBackend()) {
            long kv = Runtime.getRuntime().maxMemory() / 4 + 1; // float32 elements: just over the heap
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> b.checkFits(0, kv, 1 << 20));
            assertTrue(e.getMessage().startsWith("reference: one session needs ") && e.getMessage().contains("maximum heap of")
                    && e.getMessage().contains("smaller context") && e.getMessage().contains("-Xmx"), e.getMessage());
            b.checkFits(1L << 40, 1024, 1 << 20); // weights are mapped, not on the heap: any size fits
        }
    }
}
