package org.jgemma.cuda;

import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUfunction;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUjit_option;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;
import jcuda.driver.JITOptions;
import org.jgemma.backend.BackendUnavailableException;

/**
 * The CUDA driver API through JCuda: one primary context, one non-blocking stream, the PTX modules JIT-compiled by
 * the driver (cuModuleLoadDataEx with the JIT error log, after checking the driver is new enough for the PTX ISA),
 * pinned staging memory for host copies. Small uploads (a step's token ids and positions) do not wait for the device:
 * they are queued on the stream ahead of the graph launch that reads them (see {@link #copyToDevice}).
 */
final class GpuDriver implements CudaDriver {
    private static final long STAGING_CHUNK = 64L << 20;

    /** A CUdeviceptr whose address we can read (JCuda keeps it protected). */
    private static final class Ptr extends CUdeviceptr {
        Ptr() {}

        Ptr(CUdeviceptr base, long offset) {
            super(base, offset);
        }

        long address() {
            return getNativePointer() + getByteOffset();
        }
    }

    private record GpuGraph(CUgraphExec exec, List<String> kernels) implements Graph {}

    private final CudaDevices.Device device;
    private final CUdevice cuDevice = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final TreeMap<Long, Ptr> allocations = new TreeMap<>();
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final Map<String, String> moduleOf = Ptx.entries();
    private final int sms;
    private List<String> captured;
    private Pointer pinned;
    private ByteBuffer staging;
    /** Uploads of at most SMALL bytes: a ring of SLOTS pinned slots, each reused after the event behind its copy. */
    static final int SMALL = 4096, SLOTS = 16;
    private Pointer smallPinned;
    private ByteBuffer small;
    private final CUevent[] slotDone = new CUevent[SLOTS];
    private final boolean[] slotUsed = new boolean[SLOTS];
    private int nextSlot;

    GpuDriver(CudaDevices.Device device) {
        this.device = device;
        JCudaDriver.setExceptionsEnabled(true);
        Cu.call("cuInit", () -> JCudaDriver.cuInit(0));
        int[] version = {0};
        Cu.call("cuDriverGetVersion", () -> JCudaDriver.cuDriverGetVersion(version));
        checkDriverVersion(version[0]);
        Cu.call("cuDeviceGet(" + device.index() + ")", () -> JCudaDriver.cuDeviceGet(cuDevice, device.index()));
        Cu.call("cuDevicePrimaryCtxRetain(" + device.index() + ")", () -> JCudaDriver.cuDevicePrimaryCtxRetain(context, cuDevice));
        makeCurrent();
        Cu.call("cuStreamCreate(non-blocking)", () -> JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING));
        int[] count = {0};
        Cu.call("cuDeviceGetAttribute(multiprocessors)",
                () -> JCudaDriver.cuDeviceGetAttribute(count, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, cuDevice));
        sms = count[0];
        for (String m : Ptx.modules()) modules.put(m, load(m));
    }

    /** Refuses a driver older than the PTX needs, with both versions (instead of CUDA_ERROR_UNSUPPORTED_PTX_VERSION). */
    static void checkDriverVersion(int driver) {
        for (String m : Ptx.modules()) {
            int[] isa = Ptx.isaVersion(m);
            int need = Ptx.driverFor(isa[0], isa[1]);
            if (driver < need) {
                throw new BackendUnavailableException("the CUDA driver is version " + version(driver) + " but the kernels are PTX ISA "
                        + isa[0] + "." + isa[1] + " (" + m + ".ptx), which needs a driver of CUDA " + version(need)
                        + " or newer: update the NVIDIA driver, or use --backend cpu");
            }
        }
    }

    static String version(int v) {
        return v / 1000 + "." + v % 1000 / 10;
    }

    private CUmodule load(String m) {
        CUmodule module = new CUmodule();
        byte[] image = Ptx.image(m);
        JITOptions jit = new JITOptions();
        jit.putInt(CUjit_option.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES, 8192);
        jit.putBytes(CUjit_option.CU_JIT_ERROR_LOG_BUFFER, new byte[8192]);
        try {
            Cu.call("cuModuleLoadDataEx(" + m + ".ptx)", () -> JCudaDriver.cuModuleLoadDataJIT(module, Pointer.to(image), jit));
        } catch (Cu.CallException e) {
            String log = jit.getString(CUjit_option.CU_JIT_ERROR_LOG_BUFFER);
            throw new Cu.CallException(e.getMessage() + (log == null || log.isBlank() ? "" : "; JIT log: " + log.strip()), e);
        }
        return module;
    }

    @Override
    public String kind() {
        return "jcuda";
    }

    @Override
    public String deviceName() {
        return device.name() + ", " + MemoryEstimate.gib(device.memory()) + ", compute capability " + device.capability();
    }

    @Override
    public int multiprocessors() {
        return sms;
    }

    @Override
    public void makeCurrent() {
        CUcontext now = new CUcontext();
        Cu.call("cuCtxGetCurrent", () -> JCudaDriver.cuCtxGetCurrent(now));
        if (!now.equals(context)) Cu.call("cuCtxSetCurrent(" + device.name() + ")", () -> JCudaDriver.cuCtxSetCurrent(context));
    }

    private Ptr ptr(DevPtr p) {
        Map.Entry<Long, Ptr> e = allocations.floorEntry(p.address());
        if (e == null) throw new IllegalArgumentException("device address " + p + " is not inside an allocation");
        return e.getKey() == p.address() ? e.getValue() : new Ptr(e.getValue(), p.address() - e.getKey());
    }

    @Override
    public DevPtr alloc(long bytes, String what) {
        Ptr p = new Ptr();
        Cu.call("cuMemAlloc(" + what + ", " + bytes + " bytes)", () -> JCudaDriver.cuMemAlloc(p, bytes));
        allocations.put(p.address(), p);
        return new DevPtr(p.address());
    }

    @Override
    public void free(DevPtr p, String what) {
        Ptr a = allocations.remove(p.address());
        if (a == null) throw new IllegalArgumentException("cuMemFree(" + what + "): " + p + " is not an allocation");
        Cu.call("cuMemFree(" + what + ")", () -> JCudaDriver.cuMemFree(a));
    }

    private ByteBuffer staging(long bytes) {
        if (staging == null || staging.capacity() < bytes) {
            if (pinned != null) Cu.call("cuMemFreeHost(staging)", () -> JCudaDriver.cuMemFreeHost(pinned));
            pinned = null;
            long size = Math.max(bytes, 1 << 20);
            Pointer p = new Pointer();
            Cu.call("cuMemAllocHost(staging, " + size + " bytes)", () -> JCudaDriver.cuMemAllocHost(p, size));
            pinned = p;
            staging = p.getByteBuffer(0, size).order(ByteOrder.LITTLE_ENDIAN);
        }
        return staging.clear();
    }

    @Override
    public void copyToDevice(DevPtr dst, MemorySegment src, long bytes, String what) {
        if (bytes <= SMALL) {
            uploadSmall(dst, src, bytes, what);
            return;
        }
        for (long off = 0; off < bytes; off += STAGING_CHUNK) {
            long len = Math.min(STAGING_CHUNK, bytes - off);
            MemorySegment.ofBuffer(staging(len)).copyFrom(src.asSlice(off, len));
            Ptr d = ptr(dst.plus(off));
            Cu.call("cuMemcpyHtoDAsync(" + what + " @" + off + ", " + len + " bytes)", () -> JCudaDriver.cuMemcpyHtoDAsync(d, pinned, len, stream));
            synchronize(what);
        }
    }

    /**
     * A small upload without a host synchronisation: src is copied into a pinned slot (so the caller may reuse it at
     * once) and queued with cuMemcpyHtoDAsync on the stream, so the kernels or graph launched after it see it (stream
     * order); an event recorded behind the copy says when the slot may be written again. A token's step thus costs
     * its uploads, one graph launch and the one read that waits for the result.
     */
    private void uploadSmall(DevPtr dst, MemorySegment src, long bytes, String what) {
        if (small == null) {
            Pointer p = new Pointer();
            Cu.call("cuMemAllocHost(small uploads, " + SMALL * SLOTS + " bytes)", () -> JCudaDriver.cuMemAllocHost(p, (long) SMALL * SLOTS));
            smallPinned = p;
            small = p.getByteBuffer(0, (long) SMALL * SLOTS).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < SLOTS; i++) {
                CUevent e = new CUevent();
                Cu.call("cuEventCreate(small upload " + i + ")", () -> JCudaDriver.cuEventCreate(e, CUevent_flags.CU_EVENT_DISABLE_TIMING));
                slotDone[i] = e;
            }
        }
        int i = nextSlot;
        nextSlot = (i + 1) % SLOTS;
        if (slotUsed[i]) Cu.call("cuEventSynchronize(small upload slot " + i + ")", () -> JCudaDriver.cuEventSynchronize(slotDone[i]));
        MemorySegment.ofBuffer(small).asSlice((long) i * SMALL, bytes).copyFrom(src.asSlice(0, bytes));
        Pointer from = smallPinned.withByteOffset((long) i * SMALL);
        Ptr d = ptr(dst);
        Cu.call("cuMemcpyHtoDAsync(" + what + ", " + bytes + " bytes)", () -> JCudaDriver.cuMemcpyHtoDAsync(d, from, bytes, stream));
        Cu.call("cuEventRecord(small upload slot " + i + ")", () -> JCudaDriver.cuEventRecord(slotDone[i], stream));
        slotUsed[i] = true;
    }

    @Override
    public void copyToHost(MemorySegment dst, DevPtr src, long bytes, String what) {
        for (long off = 0; off < bytes; off += STAGING_CHUNK) {
            long len = Math.min(STAGING_CHUNK, bytes - off);
            ByteBuffer s = staging(len);
            Ptr d = ptr(src.plus(off));
            Cu.call("cuMemcpyDtoHAsync(" + what + " @" + off + ", " + len + " bytes)", () -> JCudaDriver.cuMemcpyDtoHAsync(pinned, d, len, stream));
            synchronize(what);
            dst.asSlice(off, len).copyFrom(MemorySegment.ofBuffer(s).asSlice(0, len));
        }
    }

    @Override
    public void memsetD32(DevPtr p, int value, long words, String what) {
        Ptr d = ptr(p);
        Cu.call("cuMemsetD32Async(" + what + ")", () -> JCudaDriver.cuMemsetD32Async(d, value, words, stream));
    }

    private CUfunction function(String name) {
        CUfunction f = functions.get(name);
        if (f != null) return f;
        String m = moduleOf.get(name);
        if (m == null) throw new IllegalStateException("no kernel " + name + " in the PTX modules " + modules.keySet());
        CUfunction g = new CUfunction();
        Cu.call("cuModuleGetFunction(" + name + " in " + m + ".ptx)", () -> JCudaDriver.cuModuleGetFunction(g, modules.get(m), name));
        functions.put(name, g);
        return g;
    }

    @Override
    public void launch(String name, int gx, int gy, int gz, int bx, int by, int bz, KernelArgs.Packed params) {
        CUfunction f = function(name);
        Pointer[] p = new Pointer[params.sizes().length];
        for (int i = 0; i < p.length; i++) p[i] = Pointer.to(params.param(i));
        Pointer kp = Pointer.to(p);
        Cu.call("cuLaunchKernel(" + name + ", grid " + gx + "x" + gy + "x" + gz + ", block " + bx + "x" + by + "x" + bz + ")",
                () -> JCudaDriver.cuLaunchKernel(f, gx, gy, gz, bx, by, bz, 0, stream, kp, null));
        if (captured != null) captured.add(name);
    }

    @Override
    public void beginCapture(String what) {
        Cu.call("cuStreamBeginCapture(" + what + ")",
                () -> JCudaDriver.cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_RELAXED));
        captured = new ArrayList<>();
    }

    @Override
    public Graph endCapture(String what) {
        CUgraph graph = new CUgraph();
        List<String> kernels = List.copyOf(captured);
        captured = null;
        Cu.call("cuStreamEndCapture(" + what + ")", () -> JCudaDriver.cuStreamEndCapture(stream, graph));
        CUgraphExec exec = new CUgraphExec();
        try {
            Cu.call("cuGraphInstantiate(" + what + ")", () -> JCudaDriver.cuGraphInstantiate(exec, graph, 0));
        } finally {
            Cu.call("cuGraphDestroy(" + what + ")", () -> JCudaDriver.cuGraphDestroy(graph));
        }
        return new GpuGraph(exec, kernels);
    }

    @Override
    public void abortCapture() {
        captured = null;
        CUgraph graph = new CUgraph();
        JCudaDriver.cuStreamEndCapture(stream, graph);
        JCudaDriver.cuGraphDestroy(graph);
    }

    @Override
    public void launchGraph(Graph g, String what) {
        CUgraphExec e = ((GpuGraph) g).exec();
        Cu.call("cuGraphLaunch(" + what + ")", () -> JCudaDriver.cuGraphLaunch(e, stream));
    }

    @Override
    public void destroyGraph(Graph g) {
        CUgraphExec e = ((GpuGraph) g).exec();
        Cu.call("cuGraphExecDestroy", () -> JCudaDriver.cuGraphExecDestroy(e));
    }

    @Override
    public void synchronize(String what) {
        Cu.call("cuStreamSynchronize(" + what + ")", () -> JCudaDriver.cuStreamSynchronize(stream));
    }

    @Override
    public long[] memInfo() {
        long[] free = {0}, total = {0};
        Cu.call("cuMemGetInfo", () -> JCudaDriver.cuMemGetInfo(free, total));
        return new long[] {free[0], total[0]};
    }

    /** Unloads the modules, frees the staging memory and the stream, releases the context: every step is tried. */
    @Override
    public void close() {
        List<RuntimeException> errors = new ArrayList<>();
        for (var e : modules.entrySet()) attempt(errors, () -> Cu.call("cuModuleUnload(" + e.getKey() + ")", () -> JCudaDriver.cuModuleUnload(e.getValue())));
        modules.clear();
        functions.clear();
        for (Ptr p : allocations.values()) attempt(errors, () -> Cu.call("cuMemFree", () -> JCudaDriver.cuMemFree(p)));
        allocations.clear();
        if (pinned != null) attempt(errors, () -> Cu.call("cuMemFreeHost(staging)", () -> JCudaDriver.cuMemFreeHost(pinned)));
        for (CUevent e : slotDone) if (e != null) attempt(errors, () -> Cu.call("cuEventDestroy", () -> JCudaDriver.cuEventDestroy(e)));
        if (smallPinned != null) attempt(errors, () -> Cu.call("cuMemFreeHost(small uploads)", () -> JCudaDriver.cuMemFreeHost(smallPinned)));
        attempt(errors, () -> Cu.call("cuStreamDestroy", () -> JCudaDriver.cuStreamDestroy(stream)));
        attempt(errors, () -> Cu.call("cuDevicePrimaryCtxRelease", () -> JCudaDriver.cuDevicePrimaryCtxRelease(cuDevice)));
        if (!errors.isEmpty()) {
            RuntimeException first = errors.getFirst();
            for (RuntimeException e : errors.subList(1, errors.size())) first.addSuppressed(e);
            throw first;
        }
    }

    private static void attempt(List<RuntimeException> errors, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            errors.add(e);
        }
    }
}
