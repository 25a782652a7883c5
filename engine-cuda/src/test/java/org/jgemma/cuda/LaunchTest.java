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
    void attentionSplitsFillTheDeviceWithoutOutnumberingTheKeys() {
        for (int sms : new int[] {1, 16, 132}) {
            for (int n : new int[] {1, 3, 64, 512}) {
                for (int heads : new int[] {1, 4, 8, 32}) {
                    for (int span : new int[] {1, 12, 63, 64, 65, 512, 1024, 8192, 32768, 131072}) {
                        Launch.AttentionSplit s = Launch.attentionSplit(n, heads, span, sms);
                        String at = "sms=" + sms + " n=" + n + " heads=" + heads + " span=" + span + ": " + s;
                        assertTrue(s.nsplit() >= 1 && s.nsplit() <= Launch.FA_MAX_SPLITS, at);
                        assertTrue((long) (s.nsplit() - 1) * s.minChunk() < span, at);  // every split can hold keys
                        assertTrue(s.nsplit() == 1 || (long) n * heads * s.nsplit() <= Launch.FA_MAX_PARTS, at);
                        assertTrue(s.nsplit() == 1 || (long) n * heads * (s.nsplit() - 1) < 2L * sms, at);  // ~two waves
                    }
                }
            }
        }
        // decode of the 1B shape (4 heads) on an H100 (132 SMs): 64 splits over a 32K global cache, 8 over a
        // 512-key window; the kernel then gives each split max(64, ceil(keys seen / nsplit)) keys of the position
        assertEquals(new Launch.AttentionSplit(64, 64), Launch.attentionSplit(1, 4, 32768, 132));
        assertEquals(new Launch.AttentionSplit(8, 64), Launch.attentionSplit(1, 4, 512, 132));
        // fewer SMs, fewer splits; a prompt of 512 tokens already fills the device: one split
        assertEquals(new Launch.AttentionSplit(8, 64), Launch.attentionSplit(1, 4, 32768, 16));
        assertEquals(new Launch.AttentionSplit(1, 64), Launch.attentionSplit(512, 4, 32768, 132));
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
