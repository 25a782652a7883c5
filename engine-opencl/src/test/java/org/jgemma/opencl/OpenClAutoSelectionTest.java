package org.jgemma.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.jgemma.backend.BackendProvider;
import org.jgemma.backend.Backends;
import org.junit.jupiter.api.Test;

/** {@code auto} must not pick OpenCL on CPU-only OpenCL devices (PoCL) over the native CPU backend. */
class OpenClAutoSelectionTest {
    @Test
    void cpuOnlyOpenClRanksBelowTheCpuBackend() {
        OpenClBackendProvider p = new OpenClBackendProvider();
        assumeTrue(p.probe().available(), () -> "OpenCL unavailable: " + p.probe().reason());
        boolean onlyCpus = p.devices().stream().allMatch(d -> d.details().startsWith("CPU"));
        assumeTrue(onlyCpus, "an OpenCL GPU is present");
        assertEquals(5, p.priority());
        BackendProvider auto = Backends.select("auto");
        assertNotEquals("opencl", auto.name(), "auto picked OpenCL on a CPU-only device");
    }
}
