package org.jgemma.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Sizes that do not fit a Java array are refused by name (#16: CpuMemory accepted a negative size from a wrapped
 * {@code window + batch} and cast a long into a small cache, which then failed with ArrayIndexOutOfBounds in kvAppend).
 */
class CpuHostileSizesTest {
    @Test
    void negativeAndOversizedAllocationsAreRefusedAndTakeNothing() {
        try (CpuBackend b = new CpuBackend(1)) {
            long before = b.allocatedBytes();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.allocate(-1, "x"));
            assertTrue(e.getMessage().contains("buffer x: negative size -1"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> b.allocate(1L << 31, "big"));
            assertTrue(e.getMessage().contains("buffer big of 2147483648 floats is too large"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> b.allocateInts(-5, "ids"));
            assertTrue(e.getMessage().contains("int buffer ids: negative size -5"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> b.allocateKv(-2147483136, 256, "kv.0")); // a wrapped window + batch
            assertTrue(e.getMessage().contains("KV cache kv.0: bad size -2147483136 x 256"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> b.allocateKv(1 << 24, 256, "kv.1")); // 2^32 floats
            assertTrue(e.getMessage().contains("KV cache kv.1 of 4294967296 floats is too large"), e.getMessage());
            assertEquals(before, b.allocatedBytes());
        }
    }
}
