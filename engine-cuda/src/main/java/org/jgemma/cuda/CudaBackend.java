package org.jgemma.cuda;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;
import org.jgemma.backend.Allocation;
import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendUnavailableException;
import org.jgemma.backend.Buffer;
import org.jgemma.backend.IntBuffer;
import org.jgemma.backend.KvBuffer;
import org.jgemma.backend.Op;
import org.jgemma.backend.Weight;
import org.jgemma.cuda.DeviceMemory.Floats;
import org.jgemma.cuda.DeviceMemory.Ints;
import org.jgemma.cuda.DeviceMemory.Kv;
import org.jgemma.cuda.DeviceMemory.Packed;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;

/**
 * The CUDA backend (JCuda driver API). Weights are uploaded once in their packed GGML form; activations, the f16 KV
 * cache and logits stay on the device; ops are kernel launches on one stream, so nothing waits for the device until
 * {@link #read}/{@link #readInts}. {@link #runStep} records a step into a CUDA graph the first time its key is seen
 * and replays it with one cuGraphLaunch afterwards (a JCuda launch costs ~12 µs; a graph replays hundreds at once).
 * Not thread-safe: one thread drives it (the context is made current on whichever thread calls).
 */
public final class CudaBackend implements Backend {
    private static final long STAGING_CHUNK = 64L << 20;

    private final CudaDevices.Device device;
    private final CUdevice cuDevice = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final Kernels kernels;
    /** Live device allocations and their sizes (weights, buffers, KV caches, scratch); free and close release them. */
    private final Map<CUdeviceptr, Long> allocations = new java.util.IdentityHashMap<>();
    private long allocatedBytes;
    private final Map<Object, CUgraphExec> graphs = new HashMap<>();
    private final Scratch q8qs = new Scratch("q8_1 quants"), q8ds = new Scratch("q8_1 factors"),
            faAcc = new Scratch("attention partial sums"), faMs = new Scratch("attention partial maxima");
    private long weightBytes, kvBytes, bufferBytes;
    private Pointer pinned;
    private ByteBuffer staging;
    private Object capturing;
    private Thread current;
    private boolean closed;

    CudaBackend(CudaDevices.Device device) {
        this.device = device;
        JCudaDriver.setExceptionsEnabled(true);
        Cu.call("cuInit", () -> JCudaDriver.cuInit(0));
        Cu.call("cuDeviceGet(" + device.index() + ")", () -> JCudaDriver.cuDeviceGet(cuDevice, device.index()));
        Cu.call("cuDevicePrimaryCtxRetain(" + device.index() + ")", () -> JCudaDriver.cuDevicePrimaryCtxRetain(context, cuDevice));
        makeCurrent();
        Cu.call("cuStreamCreate(non-blocking)", () -> JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING));
        kernels = new Kernels();
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String deviceName() {
        return device.name() + ", " + MemoryEstimate.gib(device.memory()) + ", compute capability " + device.capability();
    }

    @Override
    public boolean supportsOp(Op op, GgmlType type) {
        return switch (op) {
            case MATMUL, EMBED -> type != null && Kernels.WEIGHT_TYPES.contains(type);
            case RMS_NORM -> type == null || type == GgmlType.F32;
            default -> true;
        };
    }

    @Override
    public long freeMemoryBytes() {
        return memInfo()[0];
    }

    /**
     * What a model needs against what is free now: call before uploading ({@code estimate(...).check(deviceName())})
     * to fail at once, with the numbers, instead of during the upload.
     */
    public MemoryEstimate estimate(Collection<GgufTensorInfo> weights, int layers, int slots, int kvDim, long scratchBytes) {
        long[] info = memInfo();
        return new MemoryEstimate(MemoryEstimate.weightBytes(weights), MemoryEstimate.kvBytes(layers, slots, kvDim),
                scratchBytes, info[0], info[1]);
    }

    // ---- memory -------------------------------------------------------------------------------------------

    /** The f16 KV cache takes 2 bytes an element; fails with the numbers (MemoryEstimate#describe) when it does not fit. */
    @Override
    public void checkFits(long weightBytes, long kvElements, long scratchBytes) {
        long[] info = memInfo();
        MemoryEstimate e = new MemoryEstimate(weightBytes, Math.multiplyExact(2L, kvElements), scratchBytes, info[0], info[1]);
        if (!e.fits()) throw new BackendUnavailableException(e.describe(deviceName()));
    }

    @Override
    public Weight upload(GgufTensorInfo t) {
        if (!Kernels.WEIGHT_TYPES.contains(t.type())) {
            throw new UnsupportedOperationException("cuda: tensor " + t.name() + " has type " + t.type()
                    + ", the CUDA kernels read " + Kernels.WEIGHT_TYPES);
        }
        long bytes = t.byteSize();
        MemorySegment src = t.data();
        if (src == null || src.byteSize() < bytes) {
            throw new IllegalArgumentException("cuda: tensor " + t.name() + " has " + (src == null ? "no" : src.byteSize() + " bytes of")
                    + " data, expected " + bytes);
        }
        CUdeviceptr ptr = alloc(bytes, "weight " + t.name());
        weightBytes += bytes;
        for (long off = 0; off < bytes; off += STAGING_CHUNK) {
            long len = Math.min(STAGING_CHUNK, bytes - off);
            ByteBuffer s = staging(len);
            MemorySegment.ofBuffer(s).copyFrom(src.asSlice(off, len));
            long o = off;
            Cu.call("cuMemcpyHtoDAsync(" + t.name() + " @" + off + ", " + len + " bytes)",
                    () -> JCudaDriver.cuMemcpyHtoDAsync(ptr.withByteOffset(o), pinned, len, stream));
            sync("upload of " + t.name());
        }
        return new Packed(this, ptr, t.name(), t.type(), t.rowLength(), t.rowCount(), t.rowBytes());
    }

    @Override
    public Buffer allocate(long n, String name) {
        CUdeviceptr p = alloc(4 * Math.max(1, n), "buffer " + name);
        bufferBytes += 4 * n;
        zero(p, Math.max(1, n), name);
        return new Floats(this, p, n, name);
    }

    @Override
    public IntBuffer allocateInts(int n, String name) {
        CUdeviceptr p = alloc(4L * Math.max(1, n), "int buffer " + name);
        zero(p, Math.max(1, n), name);
        return new Ints(this, p, n, name);
    }

    @Override
    public KvBuffer allocateKv(int slots, int kvDim, String name) {
        long bytes = (2L * slots * kvDim + 3) / 4 * 4;  // f16, rounded up to whole words for the zero fill
        CUdeviceptr k = alloc(bytes, "KV cache " + name + " K"), v = alloc(bytes, "KV cache " + name + " V");
        kvBytes += 2 * bytes;
        zero(k, bytes / 4, name);
        zero(v, bytes / 4, name);
        return new Kv(this, k, v, slots, kvDim, name);
    }

    @Override
    public void write(Buffer dst, long dstOff, float[] src, int srcOff, int n) {
        Floats d = floats(dst, "write");
        checkRange(d, dstOff, n, "write");
        noCapture("write(" + d.name() + ")");
        staging(4L * n).asFloatBuffer().put(src, srcOff, n);
        Cu.call("cuMemcpyHtoDAsync(" + d.name() + ", " + n + " floats)",
                () -> JCudaDriver.cuMemcpyHtoDAsync(d.ptr().withByteOffset(4 * dstOff), pinned, 4L * n, stream));
        sync("write(" + d.name() + ")");
    }

    @Override
    public void writeInts(IntBuffer dst, int[] src, int n) {
        Ints d = ints(dst, "writeInts");
        if (n > d.size()) throw new IndexOutOfBoundsException("writeInts: " + n + " ints into " + d.name() + " of " + d.size());
        noCapture("writeInts(" + d.name() + ")");
        staging(4L * n).asIntBuffer().put(src, 0, n);
        Cu.call("cuMemcpyHtoDAsync(" + d.name() + ", " + n + " ints)",
                () -> JCudaDriver.cuMemcpyHtoDAsync(d.ptr(), pinned, 4L * n, stream));
        sync("writeInts(" + d.name() + ")");
    }

    @Override
    public void read(Buffer src, long srcOff, float[] dst, int dstOff, int n) {
        Floats s = floats(src, "read");
        checkRange(s, srcOff, n, "read");
        noCapture("read(" + s.name() + ")");
        ByteBuffer b = staging(4L * n);
        Cu.call("cuMemcpyDtoHAsync(" + s.name() + ", " + n + " floats)",
                () -> JCudaDriver.cuMemcpyDtoHAsync(pinned, s.ptr().withByteOffset(4 * srcOff), 4L * n, stream));
        sync("read(" + s.name() + ")");
        b.asFloatBuffer().get(dst, dstOff, n);
    }

    @Override
    public void readInts(IntBuffer src, int[] dst, int n) {
        Ints s = ints(src, "readInts");
        if (n > s.size()) throw new IndexOutOfBoundsException("readInts: " + n + " ints from " + s.name() + " of " + s.size());
        noCapture("readInts(" + s.name() + ")");
        ByteBuffer b = staging(4L * n);
        Cu.call("cuMemcpyDtoHAsync(" + s.name() + ", " + n + " ints)",
                () -> JCudaDriver.cuMemcpyDtoHAsync(pinned, s.ptr(), 4L * n, stream));
        sync("readInts(" + s.name() + ")");
        b.asIntBuffer().get(dst, 0, n);
    }

    // ---- ops (CudaOps holds the launches) ----------------------------------------------------------------

    private final CudaOps ops = new CudaOps(this);

    @Override
    public void embed(Weight table, IntBuffer tokens, int n, float scale, Buffer out) {
        ops.embed(packed(table, "embed"), ints(tokens, "embed"), n, scale, floats(out, "embed"));
    }

    @Override
    public void rmsNorm(Buffer x, Weight weight, int rows, int dim, float eps, Buffer out) {
        ops.rmsNorm(floats(x, "rmsNorm"), packed(weight, "rmsNorm"), rows, dim, eps, floats(out, "rmsNorm"));
    }

    @Override
    public void matmul(Weight w, Buffer x, int n, Buffer out) {
        ops.matmul(packed(w, "matmul"), floats(x, "matmul"), n, floats(out, "matmul"));
    }

    @Override
    public void rope(Buffer x, int n, int nHeads, int headDim, IntBuffer positions, float base, float freqScale) {
        ops.rope(floats(x, "rope"), n, nHeads, headDim, ints(positions, "rope"), base, freqScale);
    }

    @Override
    public void kvAppend(Buffer k, Buffer v, int n, IntBuffer positions, KvBuffer cache) {
        ops.kvAppend(floats(k, "kvAppend"), floats(v, "kvAppend"), n, ints(positions, "kvAppend"), kv(cache, "kvAppend"));
    }

    @Override
    public void attention(Buffer q, KvBuffer cache, int n, IntBuffer positions, int nHead, int nKvHead, int headDim,
                          int window, float scale, Buffer out) {
        ops.attention(floats(q, "attention"), kv(cache, "attention"), n, ints(positions, "attention"), nHead, nKvHead,
                headDim, window, scale, floats(out, "attention"));
    }

    @Override
    public void geglu(Buffer gate, Buffer up, long n, Buffer out) {
        ops.geglu(floats(gate, "geglu"), floats(up, "geglu"), n, floats(out, "geglu"));
    }

    @Override
    public void add(Buffer acc, Buffer x, long n) {
        ops.add(floats(acc, "add"), floats(x, "add"), n);
    }

    @Override
    public void softcap(Buffer x, long n, float cap) {
        ops.softcap(floats(x, "softcap"), n, cap);
    }

    @Override
    public void copy(Buffer src, long srcOff, Buffer dst, long dstOff, long n) {
        ops.copy(floats(src, "copy"), srcOff, floats(dst, "copy"), dstOff, n);
    }

    @Override
    public void argmax(Buffer x, int rows, int dim, IntBuffer out) {
        ops.argmax(floats(x, "argmax"), rows, dim, ints(out, "argmax"));
    }

    // ---- steps --------------------------------------------------------------------------------------------

    /**
     * First call with {@code key}: captures what {@code step} enqueues into a CUDA graph (cuStreamBeginCapture /
     * cuStreamEndCapture / cuGraphInstantiate), then launches it; later calls only cuGraphLaunch it. Everything that
     * changes between replays (token ids, positions) must be read by the kernels from device buffers, and the shapes
     * (n tokens) must be part of the key. A step must not read from or write to the host.
     */
    @Override
    public void runStep(Object key, Runnable step) {
        makeCurrent();
        CUgraphExec exec = graphs.get(key);
        if (exec == null) {
            if (capturing != null) throw new IllegalStateException("cuda: runStep(" + key + ") inside the capture of " + capturing);
            CUgraph graph = new CUgraph();
            Cu.call("cuStreamBeginCapture(step " + key + ")",
                    () -> JCudaDriver.cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_RELAXED));
            capturing = key;
            try {
                step.run();
            } catch (RuntimeException | Error e) {
                capturing = null;
                try {
                    JCudaDriver.cuStreamEndCapture(stream, graph);
                    JCudaDriver.cuGraphDestroy(graph);
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
            capturing = null;
            Cu.call("cuStreamEndCapture(step " + key + ")", () -> JCudaDriver.cuStreamEndCapture(stream, graph));
            CUgraphExec made = new CUgraphExec();
            Cu.call("cuGraphInstantiate(step " + key + ")", () -> JCudaDriver.cuGraphInstantiate(made, graph, 0));
            Cu.call("cuGraphDestroy(step " + key + ")", () -> JCudaDriver.cuGraphDestroy(graph));
            graphs.put(key, made);
            exec = made;
        }
        CUgraphExec e = exec;
        Cu.call("cuGraphLaunch(step " + key + ")", () -> JCudaDriver.cuGraphLaunch(e, stream));
    }

    /** Destroys the graph recorded under {@code key}, if any (its session's buffers are about to be freed). */
    @Override
    public void forgetStep(Object key) {
        CUgraphExec g = graphs.remove(key);
        if (g == null || closed) return;
        makeCurrent();
        sync("forgetStep");
        Cu.call("cuGraphExecDestroy(step " + key + ")", () -> JCudaDriver.cuGraphExecDestroy(g));
    }

    /**
     * cuMemFree after the stream has drained (a queued kernel may still use the memory). Minimal lifecycle support;
     * the driver-interface rewrite (#12) may pool these instead.
     */
    @Override
    public void free(Allocation a) {
        if (closed) return;
        switch (a) {
            case Floats f when f.owner() == this -> {
                if (release(f.ptr())) bufferBytes -= 4 * f.size();
            }
            case Ints i when i.owner() == this -> release(i.ptr());
            case Kv kv when kv.owner() == this -> {
                long before = allocatedBytes;
                release(kv.k());
                release(kv.v());
                kvBytes -= before - allocatedBytes;
            }
            default -> throw new IllegalArgumentException("cuda: " + a.name() + " was not allocated by this CUDA backend");
        }
    }

    private boolean release(CUdeviceptr p) {
        noCapture("free");
        Long bytes = allocations.remove(p);
        if (bytes == null) return false;
        sync("free");
        allocatedBytes -= bytes;
        Cu.call("cuMemFree", () -> JCudaDriver.cuMemFree(p));
        return true;
    }

    @Override
    public long allocatedBytes() {
        return allocatedBytes;
    }

    @Override
    public void synchronize() {
        makeCurrent();
        sync("synchronize");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        makeCurrent();
        try {
            sync("close");
        } finally {
            for (CUgraphExec g : graphs.values()) JCudaDriver.cuGraphExecDestroy(g);
            graphs.clear();
            kernels.close();
            for (CUdeviceptr p : allocations.keySet()) JCudaDriver.cuMemFree(p);
            allocations.clear();
            allocatedBytes = 0;
            if (pinned != null) JCudaDriver.cuMemFreeHost(pinned);
            JCudaDriver.cuStreamDestroy(stream);
            JCudaDriver.cuDevicePrimaryCtxRelease(cuDevice);
        }
    }

    // ---- package-private helpers for CudaOps ----------------------------------------------------------------

    Kernels kernels() {
        if (closed) throw new IllegalStateException("cuda backend on " + device.name() + " is closed");
        makeCurrent();
        return kernels;
    }

    CUstream stream() {
        return stream;
    }

    /** A scratch buffer of at least {@code bytes}; grows by allocating anew (the old one stays alive for captured graphs). */
    CUdeviceptr scratch(String which, long bytes) {
        Scratch s = switch (which) {
            case "q8qs" -> q8qs;
            case "q8ds" -> q8ds;
            case "faAcc" -> faAcc;
            case "faMs" -> faMs;
            default -> throw new IllegalArgumentException(which);
        };
        if (s.bytes < bytes) {
            long size = Math.max(bytes, s.bytes + s.bytes / 2);
            s.ptr = alloc(size, "scratch " + s.name);
            s.bytes = size;
        }
        return s.ptr;
    }

    private static final class Scratch {
        final String name;
        CUdeviceptr ptr;
        long bytes;

        Scratch(String name) {
            this.name = name;
        }
    }

    private CUdeviceptr alloc(long bytes, String what) {
        makeCurrent();
        long[] info = memInfo();
        if (bytes + MemoryEstimate.HEADROOM > info[0]) {
            throw new IllegalStateException(String.format("cuda: cannot allocate %s for %s on %s: %s of %s free (resident:"
                            + " weights %s, KV cache %s, buffers %s); try a smaller quantization (e.g. Q4_K_M), a shorter"
                            + " context, or --backend cpu", MemoryEstimate.gib(bytes), what, deviceName(),
                    MemoryEstimate.gib(info[0]), MemoryEstimate.gib(info[1]), MemoryEstimate.gib(weightBytes),
                    MemoryEstimate.gib(kvBytes), MemoryEstimate.gib(bufferBytes)));
        }
        CUdeviceptr p = new CUdeviceptr();
        Cu.call("cuMemAlloc(" + what + ", " + bytes + " bytes)", () -> JCudaDriver.cuMemAlloc(p, bytes));
        allocations.put(p, bytes);
        allocatedBytes += bytes;
        return p;
    }

    private void zero(CUdeviceptr p, long words, String name) {
        noCapture("allocate(" + name + ")");
        Cu.call("cuMemsetD32Async(" + name + ")", () -> JCudaDriver.cuMemsetD32Async(p, 0, words, stream));
    }

    private ByteBuffer staging(long bytes) {
        if (staging == null || staging.capacity() < bytes) {
            if (pinned != null) Cu.call("cuMemFreeHost(staging)", () -> JCudaDriver.cuMemFreeHost(pinned));
            long size = Math.max(bytes, 1 << 20);
            Pointer p = new Pointer();
            Cu.call("cuMemAllocHost(staging, " + size + " bytes)", () -> JCudaDriver.cuMemAllocHost(p, size));
            pinned = p;
            staging = p.getByteBuffer(0, size).order(ByteOrder.LITTLE_ENDIAN);
        }
        return staging.clear().order(ByteOrder.LITTLE_ENDIAN);
    }

    private long[] memInfo() {
        makeCurrent();
        long[] free = {0}, total = {0};
        Cu.call("cuMemGetInfo", () -> JCudaDriver.cuMemGetInfo(free, total));
        return new long[] {free[0], total[0]};
    }

    private void sync(String what) {
        Cu.call("cuStreamSynchronize(" + what + ")", () -> JCudaDriver.cuStreamSynchronize(stream));
    }

    private void noCapture(String what) {
        makeCurrent();
        if (capturing != null) {
            throw new IllegalStateException("cuda: " + what + " inside runStep(" + capturing
                    + "): a recorded step must not copy between host and device; do it before or after the step");
        }
    }

    private void makeCurrent() {
        Thread t = Thread.currentThread();
        if (t != current) {
            Cu.call("cuCtxSetCurrent(" + device.name() + ")", () -> JCudaDriver.cuCtxSetCurrent(context));
            current = t;
        }
    }

    private static void checkRange(Floats b, long off, long n, String op) {
        if (off < 0 || n < 0 || off + n > b.size()) {
            throw new IndexOutOfBoundsException(op + ": [" + off + ", " + (off + n) + ") outside " + b.name() + " of " + b.size());
        }
    }

    private Floats floats(Buffer b, String op) {
        if (b instanceof Floats f && f.owner() == this) return f;
        throw new IllegalArgumentException("cuda " + op + ": buffer " + b.name() + " does not belong to this CUDA backend");
    }

    private Ints ints(IntBuffer b, String op) {
        if (b instanceof Ints f && f.owner() == this) return f;
        throw new IllegalArgumentException("cuda " + op + ": int buffer " + b.name() + " does not belong to this CUDA backend");
    }

    private Kv kv(KvBuffer b, String op) {
        if (b instanceof Kv f && f.owner() == this) return f;
        throw new IllegalArgumentException("cuda " + op + ": KV cache " + b.name() + " does not belong to this CUDA backend");
    }

    private Packed packed(Weight w, String op) {
        if (w instanceof Packed f && f.owner() == this) return f;
        throw new IllegalArgumentException("cuda " + op + ": weight " + w.name() + " was not uploaded to this CUDA backend");
    }
}
