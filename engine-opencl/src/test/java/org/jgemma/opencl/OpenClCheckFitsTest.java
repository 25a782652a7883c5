package org.jgemma.opencl;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jgemma.backend.BackendUnavailableException;
import org.junit.jupiter.api.Test;

/** The OpenCL backend checks device memory before a model uploads anything (it had no check: #16), as CUDA does. */
class OpenClCheckFitsTest {
    @Test
    void aModelLargerThanTheFreeDeviceMemoryIsRefusedWithTheNumbers() {
        OpenClBackend b = OpenClTestSupport.backend();
        long free = b.freeMemoryBytes();
        long kv = free / 2 + 1; // f16 elements: the cache alone is just over what is free
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> b.checkFits(0, kv, 1 << 20));
        String m = e.getMessage();
        assertTrue(m.startsWith("opencl: the model needs ") && m.contains(String.format(java.util.Locale.ROOT, "KV cache %.1f MiB",
                2.0 * kv / (1 << 20))) && m.contains("is free on ") && m.contains("smaller context") && m.contains("--backend cpu"), m);
        assertThrows(BackendUnavailableException.class, () -> b.checkFits(free + 1, 0, 0)); // weights alone
        b.checkFits(free / 4, free / 16, free / 8); // what fits passes
    }
}
