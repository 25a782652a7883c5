package org.jgemma.vision;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendOptions;
import org.jgemma.backend.BackendUnavailableException;
import org.jgemma.opencl.OpenClBackend;

/**
 * {@link VisionLogitsTest} on the OpenCL backend: the image chunk runs through its own non-causal attention kernel
 * (attention_non_causal.cl).
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
