package org.jgemma.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.VectorShape;
import org.junit.jupiter.api.Test;

/** The shapes follow the machine's preferred one, narrowed by jgemma.vectorBits (the second surefire run: 128). */
class VectorShapesTest {
    @Test
    void shapesFollowThePreferredOneOrTheAskedNarrowerOne() {
        int preferred = VectorShape.preferredShape().vectorBitSize();
        int expected = Math.max(128, Math.min(preferred, Integer.getInteger("jgemma.vectorBits", preferred)));
        assertEquals(expected, VectorShapes.BITS, VectorShapes.describe());
        assertEquals(expected, VectorShapes.F.vectorBitSize());
        assertEquals(expected, VectorShapes.D.vectorBitSize());
        assertEquals(expected >= 256, VectorShapes.INT8_WIDE);
        assertEquals(expected >= 256, VectorShapes.TILES_256);
        assertEquals(16, VectorShapes.S.length(), "int8 kernels: one group of 16 values per vector");
        assertEquals(VectorShapes.S.length(), VectorShapes.B.length());
        assertTrue(32 % VectorShapes.F.length() == 0, "activation blocks of 32 split in whole vectors");
    }
}
