package org.jgemma.cuda;

import org.jgemma.backend.Buffer;
import org.jgemma.backend.IntBuffer;
import org.jgemma.backend.KvBuffer;
import org.jgemma.backend.Weight;
import org.jgemma.ggml.GgmlType;

/** The device-resident objects the CUDA backend hands out; each knows the backend that owns it. */
final class DeviceMemory {
    private DeviceMemory() {}

    /** [n] floats. */
    record Floats(CudaBackend owner, DevPtr ptr, long size, String name) implements Buffer {}

    /** [n] ints. */
    record Ints(CudaBackend owner, DevPtr ptr, int size, String name) implements IntBuffer {}

    /** K and V: [slots][kvDim] halves each. */
    record Kv(CudaBackend owner, DevPtr k, DevPtr v, int slots, int kvDim, String name) implements KvBuffer {
        /** f16 K and V, each rounded up to whole words. */
        @Override public long bytes() { return 2 * ((2L * slots * kvDim + 3) / 4 * 4); }
    }

    /** A packed GGML tensor: {@code rows} rows of {@code rowBytes} bytes, row r at {@code ptr + r·rowBytes}. */
    record Packed(CudaBackend owner, DevPtr ptr, String name, GgmlType type, long cols, long rows, long rowBytes)
            implements Weight {}
}
