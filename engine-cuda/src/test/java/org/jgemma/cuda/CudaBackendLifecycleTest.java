package org.jgemma.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jgemma.backend.BackendUnavailableException;
import org.junit.jupiter.api.Test;

/** close() and the driver checks, without kernels (a recording driver) and without a GPU. */
class CudaBackendLifecycleTest {
    @Test
    void closeFreesEverythingEvenWhenOneFreeFails() {
        RecordingDriver d = new RecordingDriver();
        d.failFreeOf = "buffer b";
        CudaBackend backend = new CudaBackend(d);
        backend.allocate(10, "a");
        backend.allocate(10, "b");
        backend.allocateKv(16, 64, "kv");
        backend.allocateInts(4, "ids");
        var e = assertThrows(Cu.CallException.class, backend::close);
        assertTrue(e.getMessage().contains("buffer b"), e.getMessage());
        assertEquals(5, d.freed.size(), "every allocation was attempted: " + d.freed);
        assertEquals(1, d.live.size(), "only the failing one is left");
        backend.close();  // closing twice does nothing
    }

    @Test
    void aDriverTooOldForThePtxIsRefusedWithBothVersions() {
        int[] isa = Ptx.isaVersion("rms_norm");
        assertEquals(9, isa[0], "the committed PTX is ISA 9.0 (nvcc 13)");
        var e = assertThrows(BackendUnavailableException.class, () -> GpuDriver.checkDriverVersion(12080));
        assertTrue(e.getMessage().contains("version 12.8") && e.getMessage().contains("PTX ISA 9.0")
                && e.getMessage().contains("CUDA 13.0"), e.getMessage());
        GpuDriver.checkDriverVersion(13000);
        GpuDriver.checkDriverVersion(13020);
        assertEquals(12000, Ptx.driverFor(8, 0));
        assertEquals(12080, Ptx.driverFor(8, 7));
        assertEquals(12090, Ptx.driverFor(8, 8));
        assertEquals(13010, Ptx.driverFor(9, 1));
    }

    @Test
    void theHostDriverIsNeverPickedByAutoButByCuda() {
        String before = System.getProperty(CudaBackendProvider.PROPERTY);
        try {
            System.setProperty(CudaBackendProvider.PROPERTY, "host");
            assertEquals(0, new CudaBackendProvider().priority(), "auto only takes priority > 0");
            System.setProperty(CudaBackendProvider.PROPERTY, "jcuda");
            assertEquals(100, new CudaBackendProvider().priority());
            System.setProperty(CudaBackendProvider.PROPERTY, "gpu?");
            var e = assertThrows(BackendUnavailableException.class, CudaBackendProvider::driverKind);
            assertTrue(e.getMessage().contains("expected host"), e.getMessage());
        } finally {
            if (before == null) System.clearProperty(CudaBackendProvider.PROPERTY);
            else System.setProperty(CudaBackendProvider.PROPERTY, before);
        }
    }
}
