package org.jgemma.vision;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendOptions;
import org.jgemma.backend.BackendUnavailableException;
import org.jgemma.opencl.OpenClBackend;

/**
 * {@link VisionLogitsTest} on the OpenCL backend. It has no Op.ATTENTION_NON_CAUSAL yet, so the model places every
 * image query at the image's last position, which sees the same keys here (the image lies inside every window).
 */
class OpenClVisionLogitsTest extends VisionLogitsTest {
    @Override
    protected Backend createBackend() {
        try {
            return OpenClBackend.create(BackendOptions.defaults());
        } catch (BackendUnavailableException e) {
            assumeTrue(false, "OpenCL unavailable: " + e.getMessage());
            throw e;
        }
    }
}
