package org.jgemma.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The per-worker score scratch is sized in long arithmetic: a context x group past an array is a clear error. */
class AttentionTaskTest {
    @Test
    void scoreScratchThatCannotBeOneArrayIsRefused() {
        assertEquals(32768 * 4, AttentionTask.scoreLength(32768, 4));
        // 2^19 slots x 4096 query heads per KV head (both allowed by a file's config) = 2^31: used to wrap to a negative size
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AttentionTask.scoreLength(1 << 19, 4096));
        assertTrue(e.getMessage().contains("524288 cache slots x 4096 query heads"), e.getMessage());
    }
}
