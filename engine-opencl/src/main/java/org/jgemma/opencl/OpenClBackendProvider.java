package org.jgemma.opencl;

import java.util.List;
import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendOptions;
import org.jgemma.backend.BackendProvider;
import org.jgemma.backend.BackendUnavailableException;

/**
 * Registers the OpenCL backend ({@code --backend opencl}). Priority 50 (after CUDA, before the CPU backend) when
 * OpenCL sees a GPU or accelerator; 5 when it sees only CPU devices (e.g. PoCL), so {@code auto} then prefers the
 * native CPU backend, which is much faster on the same cores. {@code --backend opencl} still picks it.
 */
public final class OpenClBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public int priority() {
        Integer p = priority;
        if (p == null) {
            try {
                p = ClDevice.list().stream().anyMatch(d -> !d.typeName().equals("CPU")) ? 50 : 5;
            } catch (RuntimeException | LinkageError e) { // no usable runtime: ranked low; probe() says why
                System.getLogger("org.jgemma.opencl").log(System.Logger.Level.DEBUG, "OpenCL device listing failed", e);
                p = 5;
            }
            priority = p;
        }
        return p;
    }

    /** Listing devices starts the OpenCL drivers (PoCL compiles for a while): once per process is enough. */
    private static volatile Integer priority;

    @Override
    public Availability probe() {
        try {
            List<ClDevice> devices = ClDevice.list();
            if (devices.isEmpty()) {
                return Availability.no("the OpenCL runtime found no device (install a driver: the GPU vendor's, or "
                        + "pocl-opencl-icd for CPUs)");
            }
            return Availability.yes();
        } catch (BackendUnavailableException e) {
            return Availability.no(e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            return Availability.no("OpenCL failed: " + e);
        }
    }

    @Override
    public List<DeviceInfo> devices() {
        try {
            return ClDevice.list().stream()
                    .map(d -> new DeviceInfo(d.index(), d.fullName(), d.globalMemBytes(),
                            d.typeName() + ", " + d.computeUnits() + " compute units, " + d.version()))
                    .toList();
        } catch (RuntimeException | LinkageError e) { // no devices to show; probe() gives the reason
            System.getLogger("org.jgemma.opencl").log(System.Logger.Level.DEBUG, "OpenCL device listing failed", e);
            return List.of();
        }
    }

    @Override
    public Backend create(BackendOptions options) {
        return OpenClBackend.create(options);
    }
}
