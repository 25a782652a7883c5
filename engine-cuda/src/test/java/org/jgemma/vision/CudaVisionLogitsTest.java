package org.jgemma.vision;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendUnavailableException;
import org.jgemma.cuda.CudaTestSupport;

/**
 * {@link VisionLogitsTest} on the CUDA backend (a device, or the host driver CI runs): the image chunk runs through its
 * own non-causal attention kernel (attn_non_causal_f16.cu). Skipped, with the probe's reason, where CUDA is unusable.
 */
class CudaVisionLogitsTest extends VisionLogitsTest {
    @Override
    protected Backend createBackend() {
        try {
            return CudaTestSupport.create();
        } catch (BackendUnavailableException e) {
            assumeTrue(false, "cuda backend unavailable: " + e.getMessage());
            throw e;
        }
    }
}
