package org.jgemma.vision;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jgemma.cpu.CpuBackend;
import org.jgemma.gguf.GgufFile;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The vision tower through the CPU backend (VisionEncoder: batched GEMMs and the Vector API self-attention), which is what
 * {@link VisionModel#encode} runs when engine-cpu is on the class path: against its plain-Java twin and against the
 * fixtures' llama.cpp and HF embeddings within the distance the two references keep from each other (README: image 2,
 * 1.90e-4 rms / 6.73e-4 max; image 1 on llama.cpp's pixels, 1.64e-4 / 5.96e-4), plus 5%.
 */
class CpuVisionEncoderTest {
    static GgufFile mmproj;
    static VisionModel tower;

    @BeforeAll
    static void load() throws Exception {
        mmproj = GgufFile.open(Fixtures.file("vision/gemma3v-tiny-mmproj-f32.gguf"));
        tower = VisionModel.load(mmproj);
    }

    @AfterAll
    static void close() {
        tower.close();
        mmproj.close();
    }

    @Test
    void fastPathMatchesItsTwinAndTheReferences() {
        float[] pixels = VisionRefs.pixels("image2_224x224.llamacpp");
        float[] fast = VisionRefs.flat(tower.encode(pixels)), slow = VisionRefs.flat(tower.encodeReference(pixels));
        // F32 math in another order (FMA, float dot products): measured 1.3e-7 rms, as close to HF as the plain path
        VisionModelTest.near("image2 fast vs plain Java", fast, slow, 2e-6, 1e-5);
        VisionModelTest.near("image2 fast vs HF", fast, VisionRefs.flat(VisionRefs.embd("image2_224x224.hf")), 2e-6, 1e-5);
        VisionModelTest.near("image2 fast vs llama.cpp", fast, VisionRefs.flat(VisionRefs.embd("image2_224x224.llamacpp")), 2e-4, 7.1e-4);
    }

    @Test
    void image1BothPreprocessings() throws Exception {
        RgbImage img = RgbImage.read(Fixtures.file("vision/image1_300x200.png"));
        float[] pad = VisionRefs.flat(tower.encode(img, ImagePreprocessor.Mode.PAD));
        VisionModelTest.near("image1 pad fast vs llama.cpp", pad, VisionRefs.flat(VisionRefs.embd("image1_300x200.llamacpp")), 1.73e-4, 6.3e-4);
        VisionModelTest.near("image1 pad fast vs HF on llama.cpp pixels", pad,
                VisionRefs.flat(VisionRefs.embd("image1_300x200.hf_on_llamacpp_pixels")), 2e-6, 1e-5);
        float[] stretch = VisionRefs.flat(tower.encode(img, ImagePreprocessor.Mode.STRETCH));
        VisionModelTest.near("image1 stretch fast vs HF", stretch, VisionRefs.flat(VisionRefs.embd("image1_300x200.hf")), 2e-6, 1e-5);
    }

    @Test
    void anyBackendThroughTheSpi() {
        float[] pixels = VisionRefs.pixels("image2_224x224.llamacpp");
        float[] slow = VisionRefs.flat(tower.encodeReference(pixels));
        try (CpuBackend cpu = new CpuBackend(2)) {
            long before = cpu.allocatedBytes();
            float[] onCpu = VisionRefs.flat(tower.encode(pixels, cpu));
            VisionModelTest.near("image2 on a given cpu backend vs plain Java", onCpu, slow, 2e-6, 1e-5);
            assertTrue(cpu.allocatedBytes() == before, "the encoder frees its buffers");
        }
        try (var ref = new org.jgemma.backend.reference.ReferenceBackend()) {
            float[] onRef = VisionRefs.flat(tower.encode(pixels, ref));
            VisionModelTest.near("image2 on the reference backend vs plain Java", onRef, slow, 2e-6, 1e-5);
        }
    }
}
