package org.jgemma.cuda;

import jcuda.driver.CUdeviceptr;
import org.jgemma.backend.Buffer;
import org.jgemma.backend.IntBuffer;
import org.jgemma.backend.KvBuffer;
import org.jgemma.backend.Weight;
import org.jgemma.ggml.GgmlType;

/** The device-resident objects the CUDA backend hands out; each knows the backend that owns it. */
final class DeviceMemory {
    private DeviceMemory() {}

    /** [n] floats. */
    record Floats(CudaBackend owner, CUdeviceptr ptr, long size, String name) implements Buffer {}

    /** [n] ints. */
    record Ints(CudaBackend owner, CUdeviceptr ptr, int size, String name) implements IntBuffer {}

    /** K and V: [slots][kvDim] halves each. */
    record Kv(CudaBackend owner, CUdeviceptr k, CUdeviceptr v, int slots, int kvDim, String name) implements KvBuffer {
        @Override public long bytes() { return 2 * ((2L * slots * kvDim + 3) / 4 * 4); }
    }

    /** A packed GGML tensor: {@code rows} rows of {@code rowBytes} bytes, row r at {@code ptr + r·rowBytes}. */
    record Packed(CudaBackend owner, CUdeviceptr ptr, String name, GgmlType type, long cols, long rows, long rowBytes)
            implements Weight {}
}
