package org.jgemma.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendOptions;
import org.jgemma.backend.BackendProvider;
import org.jgemma.backend.BackendUnavailableException;
import org.jgemma.backend.Backends;
import org.jocl.CL;
import org.jocl.cl_context;
import org.junit.jupiter.api.Test;

/** Discovery, device listing and selection, and the errors a user sees. */
class OpenClProviderTest {

    private static BackendProvider provider() {
        BackendProvider p = Backends.providers().stream().filter(x -> x.name().equals("opencl")).findFirst()
                .orElseThrow(() -> new AssertionError("ServiceLoader does not find the opencl provider"));
        if (!p.probe().available()) OpenClTestSupport.unavailable("OpenCL unavailable: " + p.probe().reason());
        boolean gpu = p.devices().stream().anyMatch(d -> !d.details().startsWith("CPU"));
        assertEquals(gpu ? 50 : 5, p.priority(), "priority: 50 with a GPU/accelerator, 5 with CPU devices only");
        return p;
    }

    @Test
    void listsDevicesWithMemory() {
        List<BackendProvider.DeviceInfo> devices = provider().devices();
        assertFalse(devices.isEmpty());
        for (int i = 0; i < devices.size(); i++) {
            BackendProvider.DeviceInfo d = devices.get(i);
            assertEquals(i, d.index());
            assertTrue(d.memoryBytes() > 0, d.toString());
            assertTrue(d.name().contains(" / "), "platform / device: " + d.name());
        }
    }

    @Test
    void selectsByIndexAndByNameSubstring() {
        BackendProvider p = provider();
        BackendProvider.DeviceInfo first = p.devices().getFirst();
        String deviceName = first.name().substring(first.name().indexOf(" / ") + 3);
        try (Backend byIndex = p.create(new BackendOptions(0, "0"));
             Backend byName = p.create(new BackendOptions(0, deviceName.toUpperCase()))) {
            assertEquals("opencl", byIndex.name());
            assertTrue(byIndex.deviceName().startsWith(deviceName), byIndex.deviceName());
            assertTrue(byName.deviceName().startsWith(deviceName), byName.deviceName());
            assertTrue(byIndex.freeMemoryBytes() > 0);
        }
    }

    @Test
    void unknownDeviceNamesTheDevicesThereAre() {
        BackendProvider p = provider();
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> p.create(new BackendOptions(0, "no-such-device-xyz")));
        assertTrue(e.getMessage().contains("no-such-device-xyz") && e.getMessage().contains("[0]"), e.getMessage());
        e = assertThrows(BackendUnavailableException.class, () -> p.create(new BackendOptions(0, "999")));
        assertTrue(e.getMessage().contains("999"), e.getMessage());
    }

    @Test
    void kernelBuildFailureCarriesTheBuildLog() {
        provider();
        ClDevice d = ClDevice.select(null);
        cl_context ctx = ClProgram.forDevice(d).context;
        String bad = "__kernel void broken(__global float * x) { x[0] = undefined_identifier_q; }\n";
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new ClProgram(ctx, d.device(), d.fullName(), new String[] {bad}));
        assertTrue(e.getMessage().contains("undefined_identifier_q"), e.getMessage());
        assertTrue(e.getMessage().contains("build log"), e.getMessage());
        CL.setExceptionsEnabled(true);
    }
}
