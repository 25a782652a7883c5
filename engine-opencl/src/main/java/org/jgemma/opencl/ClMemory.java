package org.jgemma.opencl;

import org.jgemma.backend.Buffer;
import org.jgemma.backend.IntBuffer;
import org.jgemma.backend.KvBuffer;
import org.jgemma.backend.Weight;
import org.jgemma.ggml.GgmlType;
import org.jocl.Pointer;
import org.jocl.cl_mem;

/** Device allocations of {@link OpenClBackend}; each keeps the Pointer JOCL passes as a kernel argument. */
final class ClMemory {
    private ClMemory() {}

    /** A cl_mem and its argument pointer, with the backend that owns it (an op rejects another backend's memory). */
    record Mem(cl_mem mem, Pointer arg, long bytes, Object owner) {
        Mem(cl_mem mem, long bytes, Object owner) {
            this(mem, Pointer.to(mem), bytes, owner);
        }
    }

    /** [size] f32. */
    record ClBuffer(Mem m, long size, String name) implements Buffer {
        @Override public long bytes() { return m.bytes(); }
    }

    /** [size] i32. */
    record ClInts(Mem m, int size, String name) implements IntBuffer {
        @Override public long bytes() { return m.bytes(); }
    }

    /** K and V: [slots][kvDim] f16 each. */
    record ClKv(Mem k, Mem v, int slots, int kvDim, String name) implements KvBuffer {
        @Override public long bytes() { return k.bytes() + v.bytes(); }
    }

    /** Packed GGML rows: [rows] × rowBytes. */
    record ClWeight(Mem m, String name, GgmlType type, long cols, long rows, long rowBytes) implements Weight {}
}
