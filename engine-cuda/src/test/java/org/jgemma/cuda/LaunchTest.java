package org.jgemma.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Launch arithmetic, without a GPU. */
class LaunchTest {
    @Test
    void matVecGridCoversEveryRowWithFourWarpsPerBlock() {
        assertEquals(1, Launch.matVecGrid(1));
        assertEquals(1, Launch.matVecGrid(4));
        assertEquals(2, Launch.matVecGrid(5));
        assertEquals(65536, Launch.matVecGrid(262144));  // gemma3 vocabulary rows
        assertThrows(IllegalArgumentException.class, () -> Launch.matVecGrid(0));
    }

    @Test
    void batchesSplitIntoKernelColumnCounts() {
        assertArrayEquals(new int[] {1}, Launch.columnChunks(1));
        assertArrayEquals(new int[] {4, 1}, Launch.columnChunks(5));
        assertArrayEquals(new int[] {8, 4, 1}, Launch.columnChunks(13));
        assertArrayEquals(new int[] {8, 4, 2, 1}, Launch.columnChunks(15));
        for (int n = 1; n <= 600; n++) {
            int[] c = Launch.columnChunks(n);
            assertEquals(n, Arrays.stream(c).sum(), "sum for n=" + n);
            assertTrue(Arrays.stream(c).allMatch(x -> x == 1 || x == 2 || x == 4 || x == 8), "kernel exists for n=" + n);
            assertTrue(c.length <= n / 8 + 3, "few launches for n=" + n);
        }
    }

    @Test
    void attentionSplitsCoverTheSpanWithoutEmptyTail() {
        for (int n : new int[] {1, 3, 64, 512}) {
            for (int heads : new int[] {1, 4, 8, 32}) {
                for (int span : new int[] {1, 12, 255, 256, 257, 512, 1024, 8192, 32768, 131072}) {
                    Launch.AttentionSplit s = Launch.attentionSplit(n, heads, span);
                    String at = "n=" + n + " heads=" + heads + " span=" + span + ": " + s;
                    assertTrue(s.nsplit() >= 1 && s.nsplit() <= Launch.FA_MAX_SPLITS, at);
                    assertTrue((long) s.nsplit() * s.chunk() >= span, at);
                    assertTrue((long) (s.nsplit() - 1) * s.chunk() < span, at);
                    assertTrue(s.nsplit() == 1 || (long) n * heads * s.nsplit() <= Launch.FA_MAX_PARTS, at);
                }
            }
        }
        assertEquals(new Launch.AttentionSplit(32, 256), Launch.attentionSplit(1, 4, 8192));  // decode, 1B, 8K context
        assertEquals(new Launch.AttentionSplit(2, 256), Launch.attentionSplit(1, 4, 512));    // decode, local layer
    }

    @Test
    void attentionSpanIsTheWindowBoundedByTheCache() {
        assertEquals(4096, Launch.attentionSpan(4096, 0));
        assertEquals(512, Launch.attentionSpan(4096, 512));
        assertEquals(12, Launch.attentionSpan(12, 8 + 100));
    }

    @Test
    void attentionShapesOutsideTheKernelAreRefusedWithTheLimit() {
        Launch.checkAttentionShape(8, 4, 256, 1024);
        Launch.checkAttentionShape(32, 16, 128, 2048);
        var e = assertThrows(UnsupportedOperationException.class, () -> Launch.checkAttentionShape(4, 1, 96, 96));
        assertTrue(e.getMessage().contains("head_dim 96"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Launch.checkAttentionShape(6, 4, 64, 256));
        assertThrows(IllegalArgumentException.class, () -> Launch.checkAttentionShape(8, 4, 64, 512));
    }

    @Test
    void normBlockIsAPowerOfTwoOfAboutEightElementsAThread() {
        assertEquals(32, Launch.normBlock(128));
        assertEquals(32, Launch.normBlock(256));
        assertEquals(256, Launch.normBlock(1152));
        assertEquals(512, Launch.normBlock(2560));
        assertEquals(1024, Launch.normBlock(5376));
        assertEquals(1024, Launch.normBlock(1 << 20));
    }

    @Test
    void elementwiseAndQuantizeGrids() {
        assertEquals(1, Launch.elementwiseGrid(0));
        assertEquals(1, Launch.elementwiseGrid(256));
        assertEquals(2, Launch.elementwiseGrid(257));
        assertEquals(Launch.EW_MAX_GRID, Launch.elementwiseGrid(1L << 40));
        assertEquals(1, Launch.quantizeGrid(8));       // 256 elements
        assertEquals(90, Launch.quantizeGrid(720));    // 1152·20 elements / 256
    }

    @Test
    void thetaScaleIsGgmlsFloatPow() {
        // numpy float32 power (the powf ggml calls on the host): np.float32(base) ** (np.float32(-2) / np.float32(hd))
        assertEquals(0.9305720329284668f, Launch.thetaScale(10000f, 256));
        assertEquals(0.8976871371269226f, Launch.thetaScale(1e6f, 256));
        assertEquals(0.8058421611785889f, Launch.thetaScale(1e6f, 128));
    }
}
