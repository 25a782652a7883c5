package org.jgemma.cuda;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A CudaDriver that runs nothing: allocations get made-up addresses, launches are recorded (after KernelArgs checked
 * them against the PTX), copies read back zeros. For tests of the host-side logic that need no kernels: which kernels
 * the ops launch with which arguments, what close() frees.
 */
class RecordingDriver implements CudaDriver {
    record Launched(String kernel, int[] dims, KernelArgs.Packed params) {}

    final List<Launched> launches = new ArrayList<>();
    final Map<Long, Long> live = new LinkedHashMap<>();
    final List<String> freed = new ArrayList<>();
    long next = 1L << 32;
    String failFreeOf;  // free of the allocation named this throws

    @Override public String kind() { return "recording"; }
    @Override public String deviceName() { return "recording driver"; }
    @Override public int multiprocessors() { return 16; }
    @Override public void makeCurrent() {}

    @Override
    public DevPtr alloc(long bytes, String what) {
        long a = next;
        next += (bytes + 255) / 256 * 256;
        live.put(a, bytes);
        return new DevPtr(a);
    }

    @Override
    public void free(DevPtr p, String what) {
        freed.add(what);
        if (what.equals(failFreeOf)) throw new Cu.CallException("cuMemFree(" + what + "): CUDA_ERROR_ILLEGAL_ADDRESS (injected)", null);
        live.remove(p.address());
    }

    @Override public void copyToDevice(DevPtr dst, MemorySegment src, long bytes, String what) {}
    @Override public void copyToHost(MemorySegment dst, DevPtr src, long bytes, String what) { dst.asSlice(0, bytes).fill((byte) 0); }
    @Override public void memsetD32(DevPtr p, int value, long words, String what) {}

    @Override
    public void launch(String name, int gx, int gy, int gz, int bx, int by, int bz, KernelArgs.Packed params) {
        launches.add(new Launched(name, new int[] {gx, gy, gz, bx, by, bz}, params));
    }

    @Override public void beginCapture(String what) {}
    @Override public Graph endCapture(String what) { return List::of; }
    @Override public void abortCapture() {}
    @Override public void launchGraph(Graph g, String what) {}
    @Override public void destroyGraph(Graph g) {}
    @Override public void synchronize(String what) {}
    @Override public long[] memInfo() { return new long[] {64L << 30, 80L << 30}; }
    @Override public void close() {}
}
