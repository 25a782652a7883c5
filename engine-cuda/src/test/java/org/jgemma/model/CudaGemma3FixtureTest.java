package org.jgemma.model;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendUnavailableException;
import org.jgemma.cuda.CudaTestSupport;

/**
 * The fixture protocol of {@link Gemma3FixtureTest} (prompt in one batch, then 8 greedy steps) on the CUDA backend,
 * against llama.cpp ({@code expected}) and HF ({@code exact}) logits. The CUDA kernels compute as llama.cpp's GPU path
 * does (q8_1 activations in quantized dot products, f16 KV cache, f32 GELU), so they land near llama.cpp: against HF
 * they get the same budget as against llama.cpp (the distance between the two references, FACTS §2.3).
 * Skipped, with the probe's reason, where no CUDA device is usable.
 */
class CudaGemma3FixtureTest extends Gemma3FixtureTest {

    @Override
    protected Backend createBackend() {
        try {
            return CudaTestSupport.create();
        } catch (BackendUnavailableException e) {
            assumeTrue(false, "cuda backend unavailable: " + e.getMessage());
            throw e;
        }
    }

    @Override
    protected double exactBudget(String fmt) {
        return expectedBudget(fmt);
    }
}
