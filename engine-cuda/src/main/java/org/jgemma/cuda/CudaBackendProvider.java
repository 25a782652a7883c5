package org.jgemma.cuda;

import java.util.List;
import java.util.Locale;
import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendOptions;
import org.jgemma.backend.BackendProvider;
import org.jgemma.backend.BackendUnavailableException;

/**
 * The CUDA backend's entry in ServiceLoader (STYLE 8): name {@code cuda}, priority 100. The driver is JCuda (a GPU)
 * unless the environment variable {@code JGEMMA_CUDA_DRIVER=host} (or the system property {@code jgemma.cuda.driver=host})
 * picks the host driver, which runs the same kernels on the CPU: a test vehicle, so its priority is 0 and
 * {@code --backend auto} never picks it; {@code --backend cuda} does.
 */
public final class CudaBackendProvider implements BackendProvider {
    static final String ENV = "JGEMMA_CUDA_DRIVER", PROPERTY = "jgemma.cuda.driver";

    /** "host" or "jcuda", from the system property, else the environment, else "jcuda". */
    static String driverKind() {
        String v = System.getProperty(PROPERTY);
        if (v == null || v.isBlank()) v = System.getenv(ENV);
        if (v == null || v.isBlank()) return "jcuda";
        v = v.strip().toLowerCase(Locale.ROOT);
        if (!v.equals("host") && !v.equals("jcuda")) {
            throw new BackendUnavailableException(ENV + "=" + v + ": expected host (the kernels on the CPU) or jcuda (a GPU)");
        }
        return v;
    }

    static boolean host() {
        try {
            return driverKind().equals("host");
        } catch (BackendUnavailableException e) {
            return false;
        }
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int priority() {
        return host() ? 0 : 100;
    }

    @Override
    public Availability probe() {
        try {
            if (!driverKind().equals("host")) return CudaDevices.probe();
            HostLibrary.get();
            return new Availability(true, "available (host driver: the CUDA kernels on the CPU, " + ENV + "=host)");
        } catch (BackendUnavailableException e) {
            return Availability.no(e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            return Availability.no("the CUDA host driver failed: " + e);
        }
    }

    @Override
    public List<DeviceInfo> devices() {
        if (!host()) return CudaDevices.infos();
        try {
            HostLibrary lib = HostLibrary.get();
            return List.of(new DeviceInfo(0, "host driver: the CUDA kernels compiled for the CPU" + (lib.sanitized ? " (ASan/UBSan)" : ""), 0,
                    "driver host (" + ENV + "=host), " + lib.index.size() + " kernels, " + Integer.getInteger("jgemma.cuda.host.sms",
                    HostDriver.DEFAULT_SMS) + " virtual SMs; a test vehicle, not a GPU"));
        } catch (RuntimeException e) {
            return List.of();
        }
    }

    @Override
    public Backend create(BackendOptions options) {
        if (driverKind().equals("host")) {
            HostLibrary.get();
            return new CudaBackend(new HostDriver());
        }
        CudaDevices.Device device = CudaDevices.select(CudaDevices.list(), options == null ? null : options.device());
        try {
            return new CudaBackend(new GpuDriver(device));
        } catch (Cu.CallException e) {
            throw new BackendUnavailableException("cuda backend on " + device.name() + ": " + e.getMessage(), e);
        }
    }
}
