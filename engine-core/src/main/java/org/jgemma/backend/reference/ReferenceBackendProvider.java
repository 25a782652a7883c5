package org.jgemma.backend.reference;

import java.util.List;
import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendOptions;
import org.jgemma.backend.BackendProvider;

/** Registers {@link ReferenceBackend} as backend {@code reference}, priority 0 ({@code auto} never picks it). */
public final class ReferenceBackendProvider implements BackendProvider {
    @Override public String name() { return "reference"; }
    @Override public int priority() { return 0; }
    @Override public Availability probe() { return Availability.yes(); }

    @Override
    public List<DeviceInfo> devices() {
        return List.of(new DeviceInfo(0, "scalar Java reference", Runtime.getRuntime().maxMemory(), "single thread, float32"));
    }

    @Override
    public Backend create(BackendOptions options) {
        return new ReferenceBackend();
    }
}
