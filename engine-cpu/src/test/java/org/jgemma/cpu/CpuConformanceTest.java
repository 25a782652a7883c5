package org.jgemma.cpu;

import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendConformanceTest;

/** The shared op conformance suite (engine-core tests) on the CPU backend with two workers. */
class CpuConformanceTest extends BackendConformanceTest {
    @Override
    protected Backend create() {
        return new CpuBackend(2);
    }
}
