package org.jgemma.vision;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendUnavailableException;
import org.jgemma.cuda.CudaTestSupport;

/**
 * {@link VisionLogitsTest} on the CUDA backend (a device, or the host driver CI runs). It has no
 * Op.ATTENTION_NON_CAUSAL yet, so the model places every image query at the image's last position, which sees the same
 * keys here (the image lies inside every window). Skipped, with the probe's reason, where CUDA is unusable.
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
