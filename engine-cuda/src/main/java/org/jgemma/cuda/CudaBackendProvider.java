package org.jgemma.cuda;

import java.util.List;
import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendOptions;
import org.jgemma.backend.BackendProvider;
import org.jgemma.backend.BackendUnavailableException;

/** The CUDA backend's entry in ServiceLoader (STYLE 8): name {@code cuda}, priority 100. */
public final class CudaBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public Availability probe() {
        return CudaDevices.probe();
    }

    @Override
    public List<DeviceInfo> devices() {
        return CudaDevices.infos();
    }

    @Override
    public Backend create(BackendOptions options) {
        CudaDevices.Device device = CudaDevices.select(CudaDevices.list(), options == null ? null : options.device());
        try {
            return new CudaBackend(device);
        } catch (Cu.CallException e) {
            throw new BackendUnavailableException("cuda backend on " + device.name() + ": " + e.getMessage(), e);
        }
    }
}
