package org.jgemma.vision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.Test;

/** The vision tower's part of the memory estimate: its tensors' bytes and one image's float buffers. */
class VisionMemoryTest {
    static final float[] HALF = {0.5f, 0.5f, 0.5f};

    @Test
    void fixtureMmproj() throws Exception {
        try (GgufFile f = GgufFile.open(Fixtures.file("vision/gemma3v-tiny-mmproj-f32.gguf"))) {
            VisionMemory m = VisionMemory.of(f);
            long tensors = f.tensors().stream().mapToLong(GgufTensorInfo::byteSize).sum();
            assertTrue(f.tensors().stream().allMatch(t -> t.name().startsWith("v.") || t.name().startsWith("mm.")));
            assertEquals(tensors, m.weightBytes()); // every tensor of an mmproj is the tower's
            // 224 px, patch 14: 256 patches of width 128, FFN 256, 3 layers, 16 tokens, text width 32: pixels 150528
            // + im2col 2*256*588 + 8*256*128 + keys and values 2*256*128 + scores 64*256 + FFN 2*256*256 + 16*(128+32) + pos 256*128
            // + proj 128*32 + 3*(9*128+256) + 3*128 = 970752 floats
            assertEquals(4L * 970_752, m.scratchBytes());
            assertEquals(m.weightBytes() + m.scratchBytes(), m.totalBytes());
        }
    }

    @Test
    void realGemma3TowerOfThe4B() {
        // SigLIP so400m at 896 px / patch 14 (4096 patches, width 1152, FFN 4304, 27 layers, 16 heads), 256 tokens of 2560
        VisionConfig c = new VisionConfig(VisionConfig.Layout.MMPROJ, 1152, 4304, 27, 16, 896, 14, 4, 1e-6f, 2560, HALF, HALF);
        assertEquals(4L * 98_949_360, VisionMemory.scratchBytes(c)); // 377 MiB, the README's figure
        assertEquals(377, VisionMemory.scratchBytes(c) >> 20);
    }

    @Test
    void noneIsZero() {
        assertEquals(0, VisionMemory.NONE.totalBytes());
    }
}
