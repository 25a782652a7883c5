package org.jgemma.cpu;

import java.util.List;

import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendOptions;
import org.jgemma.backend.BackendProvider;

/** Registers the Vector API backend as {@code cpu}, priority 10. */
public final class CpuBackendProvider implements BackendProvider {
    @Override public String name() { return "cpu"; }

    @Override public int priority() { return 10; }

    @Override
    public Availability probe() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return Availability.no("the Vector API is not enabled: run java with --add-modules jdk.incubator.vector");
        }
        return Availability.yes();
    }

    @Override
    public List<DeviceInfo> devices() {
        int n = Runtime.getRuntime().availableProcessors();
        // the machine's (or the container's) memory: weights are memory-mapped and KV caches live off the Java heap
        long memory = java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os ? os.getTotalMemorySize() : 0;
        return List.of(new DeviceInfo(0, "CPU (" + n + " cores)", memory,
                "Vector API " + jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit; " + NativeKernels.describe()));
    }

    @Override
    public Backend create(BackendOptions options) {
        return new CpuBackend(options.threads());
    }
}
