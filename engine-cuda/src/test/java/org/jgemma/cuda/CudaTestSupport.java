package org.jgemma.cuda;

import static org.junit.jupiter.api.Assertions.fail;

import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendOptions;
import org.jgemma.backend.BackendProvider;
import org.jgemma.backend.BackendUnavailableException;

/**
 * The CUDA backend the suites run on: the driver {@code jgemma.cuda.driver} names (the Maven build sets {@code host},
 * the kernels compiled for the CPU; run-on-gpu.sh sets {@code jcuda}). Where it cannot run, the tests are skipped with
 * the reason, except under CI (env CI set), where the host driver must run: a missing host library fails the build.
 */
public final class CudaTestSupport {
    private CudaTestSupport() {}

    public static Backend create() {
        CudaBackendProvider p = new CudaBackendProvider();
        BackendProvider.Availability a = p.probe();
        if (!a.available()) {
            if (CudaBackendProvider.host() && System.getenv("CI") != null) {
                fail("CI must run the CUDA backend on the host driver, but it is unavailable: " + a.reason());
            }
            throw new BackendUnavailableException(a.reason());
        }
        return p.create(BackendOptions.defaults());
    }

    /** The host driver's backend, whatever jgemma.cuda.driver says (tests of host-driver behaviour). */
    public static CudaBackend host() {
        try {
            HostLibrary.get();
        } catch (BackendUnavailableException e) {
            if (System.getenv("CI") != null) fail("CI must run the CUDA host driver: " + e.getMessage());
            org.junit.jupiter.api.Assumptions.assumeTrue(false, "CUDA host driver unavailable: " + e.getMessage());
        }
        return new CudaBackend(new HostDriver());
    }
}
