package org.jgemma.backend.reference;

import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendConformanceTest;

/** Runs the conformance suite on the reference itself: checks the harness and that the reference is deterministic. */
class ReferenceBackendConformanceTest extends BackendConformanceTest {
    @Override
    protected Backend create() {
        return new ReferenceBackend();
    }
}
