package org.jgemma.cuda;

import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendConformanceTest;
import org.jgemma.backend.BackendOptions;

/**
 * The conformance suite on the CUDA backend. Without a usable device, {@code create()} throws
 * BackendUnavailableException and every test is skipped with the reason (e.g. "backend unavailable: no NVIDIA driver
 * (libcuda.so.1 not found)"); run it on the GPU machine with engine-cuda/run-on-gpu.sh.
 */
class CudaBackendConformanceTest extends BackendConformanceTest {
    @Override
    protected Backend create() {
        return new CudaBackendProvider().create(BackendOptions.defaults());
    }
}
