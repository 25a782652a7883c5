package org.jgemma.opencl;

import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendConformanceTest;
import org.jgemma.backend.BackendOptions;
import org.jgemma.backend.BackendUnavailableException;
import org.junit.jupiter.api.Assertions;

/**
 * The shared conformance suite on the default OpenCL device. Skipped without a device, except when CI or
 * {@code -Djgemma.requireOpenCl=true} is set (see {@link OpenClTestSupport}): then a missing device fails every test.
 */
class OpenClConformanceTest extends BackendConformanceTest {
    @Override
    protected Backend create() {
        try {
            return OpenClBackend.create(BackendOptions.defaults());
        } catch (BackendUnavailableException e) {
            if (OpenClTestSupport.required()) {
                Assertions.fail("no OpenCL backend (" + e.getMessage() + ") but CI or -Djgemma.requireOpenCl requires one");
            }
            throw e;
        }
    }
}
