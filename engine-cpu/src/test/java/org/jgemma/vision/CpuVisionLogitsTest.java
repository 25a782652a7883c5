package org.jgemma.vision;

import org.jgemma.backend.Backend;
import org.jgemma.cpu.CpuBackend;

/** {@link VisionLogitsTest} (image prompt + 8 greedy steps vs llama.cpp and HF) on the CPU backend, whose attention lifts the causal limit natively. */
class CpuVisionLogitsTest extends VisionLogitsTest {
    @Override
    protected Backend createBackend() {
        return new CpuBackend(2);
    }
}
