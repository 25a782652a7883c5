package org.jgemma.cpu;

import java.lang.foreign.MemorySegment;

import org.jgemma.backend.Buffer;
import org.jgemma.backend.IntBuffer;
import org.jgemma.backend.KvBuffer;
import org.jgemma.backend.Weight;
import org.jgemma.ggml.GgmlType;

/** The CPU backend's memory objects: heap arrays for activations, the file mapping for weights. */
final class CpuMemory {
    private CpuMemory() {}

    /** [size] floats; {@code version} changes whenever an op writes it (lets a matmul reuse quantized activations). */
    static final class CpuBuffer implements Buffer {
        final float[] data;
        final String name;
        int version;

        CpuBuffer(long n, String name) {
            if (n > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("buffer " + name + " of " + n + " floats is too large");
            this.data = new float[(int) n];
            this.name = name;
        }

        void touch() {
            version++;
        }

        @Override public long size() { return data.length; }
        @Override public String name() { return name; }
        @Override public String toString() { return "cpu buffer " + name + " [" + data.length + "]"; }
    }

    static final class CpuIntBuffer implements IntBuffer {
        final int[] data;
        final String name;

        CpuIntBuffer(int n, String name) {
            this.data = new int[n];
            this.name = name;
        }

        @Override public int size() { return data.length; }
        @Override public String name() { return name; }
    }

    /** K and V, each [slots][kvDim] float32. */
    static final class CpuKv implements KvBuffer {
        final float[] k, v;
        final int slots, kvDim;
        final String name;

        CpuKv(int slots, int kvDim, String name) {
            long n = (long) slots * kvDim;
            if (n > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("KV cache " + name + " of " + n + " floats is too large");
            this.k = new float[(int) n];
            this.v = new float[(int) n];
            this.slots = slots;
            this.kvDim = kvDim;
            this.name = name;
        }

        @Override public int slots() { return slots; }
        @Override public int kvDim() { return kvDim; }
        @Override public String name() { return name; }
    }

    /**
     * A weight read in place from the GGUF mapping: rows of {@code rowBytes} packed bytes; {@code packed}, when not
     * null, the same rows repacked for the native kernels in groups of 8 ({@link NativeKernels#pack}), which the
     * matmuls read instead (everything else, an embedding lookup or the float tile, reads {@code data}).
     */
    record CpuWeight(String name, GgmlType type, long cols, long rows, MemorySegment data, long rowBytes, MemorySegment packed) implements Weight {
        CpuWeight(String name, GgmlType type, long cols, long rows, MemorySegment data, long rowBytes) {
            this(name, type, cols, rows, data, rowBytes, null);
        }
    }
}
