package org.jgemma.cpu;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

import org.junit.jupiter.api.Test;

/** close() frees the repacked weights' arena once; a second close() is a no-op (Backend's contract). */
class CpuBackendCloseTest {
    @Test
    void closingTwiceIsANoOp() {
        CpuBackend b = new CpuBackend(2);
        b.close();
        assertDoesNotThrow(b::close);
    }
}
