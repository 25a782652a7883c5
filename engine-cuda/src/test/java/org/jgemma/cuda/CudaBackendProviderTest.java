package org.jgemma.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jgemma.backend.BackendOptions;
import org.jgemma.backend.BackendProvider;
import org.jgemma.backend.BackendUnavailableException;
import org.jgemma.backend.Backends;
import org.junit.jupiter.api.Test;

/** Discovery and the probe: never a crash, and a clear sentence when there is no driver (this runs without a GPU). */
class CudaBackendProviderTest {

    /** Whether a libcuda.so.1 file exists in the usual places (independent of the probe's own dlopen check). */
    static boolean driverFileExists() {
        List<String> dirs = new ArrayList<>(List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu",
                "/usr/lib/wsl/lib", "/usr/local/nvidia/lib64", "/usr/lib/aarch64-linux-gnu"));
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) dirs.addAll(List.of(ld.split(":")));
        return dirs.stream().anyMatch(d -> !d.isEmpty() && Files.exists(Path.of(d, "libcuda.so.1")));
    }

    /** These tests are about the JCuda (GPU) driver, whatever jgemma.cuda.driver the build set. */
    private static String saved;

    @org.junit.jupiter.api.BeforeEach
    void jcuda() {
        saved = System.getProperty(CudaBackendProvider.PROPERTY);
        System.setProperty(CudaBackendProvider.PROPERTY, "jcuda");
    }

    @org.junit.jupiter.api.AfterEach
    void restore() {
        if (saved == null) System.clearProperty(CudaBackendProvider.PROPERTY);
        else System.setProperty(CudaBackendProvider.PROPERTY, saved);
    }

    @Test
    void foundByServiceLoaderWithPriority100() {
        BackendProvider p = Backends.providers().stream().filter(x -> x.name().equals("cuda")).findFirst().orElse(null);
        assertNotNull(p, "cuda provider not found through ServiceLoader");
        assertEquals(100, p.priority());
        assertTrue(p instanceof CudaBackendProvider);
    }

    @Test
    void probeNeverThrowsAndExplainsItself() {
        BackendProvider.Availability a = new CudaBackendProvider().probe();
        assertNotNull(a.reason());
        if (!a.available()) {
            assertTrue(a.reason().startsWith(CudaDevices.NO_DRIVER) || a.reason().equals(CudaDevices.NO_DEVICE)
                    || a.reason().matches("compute capability \\d+\\.\\d+ is too old \\(need 8\\.0\\+\\).*")
                    || a.reason().startsWith("the CUDA driver failed"), a.reason());
        }
        System.out.println("cuda probe: " + a);
    }

    @Test
    void withoutADriverTheReasonSaysSoAndCreateRefuses() {
        if (driverFileExists()) {
            System.out.println("libcuda.so.1 present: the no-driver path is covered on machines without it");
            return;
        }
        CudaBackendProvider p = new CudaBackendProvider();
        BackendProvider.Availability a = p.probe();
        assertFalse(a.available());
        assertEquals("no NVIDIA driver (libcuda.so.1 not found)", a.reason());
        assertTrue(p.devices().isEmpty());
        var e = assertThrows(BackendUnavailableException.class, () -> p.create(BackendOptions.defaults()));
        assertEquals("no NVIDIA driver (libcuda.so.1 not found)", e.getMessage());
        var sel = assertThrows(BackendUnavailableException.class, () -> Backends.select("cuda"));
        assertTrue(sel.getMessage().contains("libcuda.so.1 not found"), sel.getMessage());
    }

    @Test
    void deviceSelectionByIndexOrNameAndCapability() {
        long gib = 1L << 30;
        List<CudaDevices.Device> ds = List.of(new CudaDevices.Device(0, "Tesla V100-SXM2-16GB", 16 * gib, 7, 0),
                new CudaDevices.Device(1, "NVIDIA H100 80GB HBM3", 80 * gib, 9, 0),
                new CudaDevices.Device(2, "NVIDIA A10", 24 * gib, 8, 6));
        assertEquals(1, CudaDevices.select(ds, null).index());
        assertEquals(2, CudaDevices.select(ds, "2").index());
        assertEquals(2, CudaDevices.select(ds, "a10").index());
        var old = assertThrows(BackendUnavailableException.class, () -> CudaDevices.select(ds, "V100"));
        assertEquals("compute capability 7.0 is too old (need 8.0+): Tesla V100-SXM2-16GB (device 0)", old.getMessage());
        var none = assertThrows(BackendUnavailableException.class, () -> CudaDevices.select(ds, "MI300"));
        assertTrue(none.getMessage().startsWith("no CUDA device matches 'MI300'"), none.getMessage());
    }
}
