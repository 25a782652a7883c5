package org.jgemma.opencl;

import static org.jocl.CL.*;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jgemma.backend.Allocation;
import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendOptions;
import org.jgemma.backend.BackendUnavailableException;
import org.jgemma.backend.Buffer;
import org.jgemma.backend.IntBuffer;
import org.jgemma.backend.KvBuffer;
import org.jgemma.backend.Op;
import org.jgemma.backend.Weight;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.opencl.ClMemory.ClBuffer;
import org.jgemma.opencl.ClMemory.ClInts;
import org.jgemma.opencl.ClMemory.ClKv;
import org.jgemma.opencl.ClMemory.ClWeight;
import org.jgemma.opencl.ClMemory.Mem;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

/**
 * The OpenCL backend (JOCL): weights, activations and the KV cache live in device memory; every op is a kernel
 * enqueued on one in-order queue, so a step runs without host round trips. Only {@link #read} and {@link #readInts}
 * wait for the device ({@link #write} and {@link #upload} are blocking copies from Java memory, done before a step).
 * The kernels ({@code kernels/*.cl}) are built once per device and process; see {@link ClProgram}.
 *
 * <p>The KV cache is F16 as llama.cpp's default cache type; attention reads it with an online softmax in f32.
 */
public final class OpenClBackend implements Backend {
    /** Weight types {@code matmul} and {@code embed} read, each with a {@code mul_mv_<type>_f32} kernel. */
    static final Set<GgmlType> MATMUL_TYPES = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
            GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K,
            GgmlType.Q6_K);
    private static final long UPLOAD_CHUNK = 64L << 20;
    private static final int WG = ClProgram.WG;

    private final ClDevice device;
    private final cl_context context;
    private final cl_command_queue queue;
    private final ClProgram.Kernels kernels;
    /** Live allocations (weights included) and their sizes; free and close release them. */
    private final java.util.Map<cl_mem, Long> allocations = new java.util.IdentityHashMap<>();
    private final Launch launch = new Launch();
    private long allocatedBytes;
    private boolean closed;

    /** Opens {@code options.device()} (index or name substring; null: the best GPU, else any device). */
    public static OpenClBackend create(BackendOptions options) {
        return new OpenClBackend(ClDevice.select(options == null ? null : options.device()));
    }

    @SuppressWarnings("deprecation") // clCreateCommandQueue: OpenCL 1.2 drivers lack the 2.0 ...WithProperties
    OpenClBackend(ClDevice device) {
        this.device = device;
        long maxWg = maxWorkGroupSize(device.device());
        if (maxWg < WG) {
            throw new BackendUnavailableException("OpenCL device " + device.fullName() + " allows work-groups of "
                    + maxWg + " work-items; the kernels need " + WG);
        }
        ClProgram program = ClProgram.forDevice(device);
        context = program.context;
        try {
            queue = clCreateCommandQueue(context, device.device(), 0, null);
        } catch (CLException e) {
            throw new BackendUnavailableException("cannot create a command queue on " + device.fullName() + ": " + e.getMessage(), e);
        }
        kernels = program.new Kernels();
    }

    private static long maxWorkGroupSize(cl_device_id d) {
        long[] v = new long[1];
        clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, Sizeof.size_t, Pointer.to(v), null);
        return v[0];
    }

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public String deviceName() {
        return device.describe();
    }

    @Override
    public boolean supportsOp(Op op, GgmlType type) {
        return switch (op) {
            case MATMUL, EMBED -> MATMUL_TYPES.contains(type);
            case RMS_NORM -> type == null || type == GgmlType.F32;
            default -> true;
        };
    }

    /** Device memory minus what this backend allocated (OpenCL has no portable free-memory query). */
    @Override
    public long freeMemoryBytes() {
        return Math.max(0, device.globalMemBytes() - allocatedBytes);
    }

    // ---- memory -------------------------------------------------------------------------------------------

    /**
     * Weights, the f16 KV cache (2 bytes an element) and the activations against the device memory this backend has
     * not used yet (OpenCL cannot tell what other programs hold); refuses with the numbers and what to try, as CUDA
     * does, before anything is uploaded.
     */
    @Override
    public void checkFits(long weightBytes, long kvElements, long scratchBytes) {
        long kv = Math.multiplyExact(2L, kvElements);
        long need = Math.addExact(Math.addExact(weightBytes, kv), scratchBytes), free = freeMemoryBytes();
        if (need > free) {
            throw new BackendUnavailableException(String.format(java.util.Locale.ROOT, "opencl: the model needs %.1f MiB"
                            + " of device memory (weights %.1f MiB, KV cache %.1f MiB, activations %.1f MiB) but %.1f MiB of %.1f MiB"
                            + " is free on %s; try a smaller context (--ctx-size, ModelOptions.withContextSize), a smaller"
                            + " quantization (e.g. Q4_K_M), or another backend (--backend cpu)", need / MIB, weightBytes / MIB,
                    kv / MIB, scratchBytes / MIB, free / MIB, device.globalMemBytes() / MIB, device.fullName()));
        }
    }

    private static final double MIB = 1 << 20;

    private Mem alloc(long bytes, long flags, String what) {
        if (bytes > device.maxAllocBytes()) {
            throw new IllegalArgumentException(what + ": " + bytes + " bytes exceed the device's largest allocation ("
                    + device.maxAllocBytes() + " bytes, CL_DEVICE_MAX_MEM_ALLOC_SIZE) on " + device.fullName());
        }
        cl_mem m;
        try {
            m = clCreateBuffer(context, flags, Math.max(bytes, 4), null, null);
        } catch (CLException e) {
            throw new IllegalStateException(what + ": clCreateBuffer(" + bytes + " bytes) failed on " + device.fullName()
                    + " (" + freeMemoryBytes() + " bytes left of " + device.globalMemBytes() + "): " + e.getMessage(), e);
        }
        allocations.put(m, bytes);
        allocatedBytes += bytes;
        return new Mem(m, bytes, this);
    }

    private void zero(Mem m) {
        clEnqueueFillBuffer(queue, m.mem(), Pointer.to(new byte[] {0}), 1, 0, Math.max(m.bytes(), 4), 0, null, null);
    }

    @Override
    public Weight upload(GgufTensorInfo t) {
        GgmlType type = t.type();
        if (!MATMUL_TYPES.contains(type)) {
            throw new UnsupportedOperationException("tensor " + t.name() + " has type " + type
                    + "; the OpenCL backend reads " + MATMUL_TYPES);
        }
        long bytes = type.byteSize(t.elementCount());
        MemorySegment data = t.data();
        if (data.byteSize() < bytes) {
            throw new IllegalArgumentException("tensor " + t.name() + ": " + data.byteSize() + " bytes of data, "
                    + type + " " + java.util.Arrays.toString(t.ne()) + " needs " + bytes);
        }
        Mem m = alloc(bytes, CL_MEM_READ_ONLY, "tensor " + t.name());
        ByteBuffer staging = null;
        for (long off = 0; off < bytes; off += UPLOAD_CHUNK) {
            int len = (int) Math.min(UPLOAD_CHUNK, bytes - off);
            ByteBuffer src = data.asSlice(off, len).asByteBuffer();
            if (!src.isDirect()) {
                if (staging == null) staging = ByteBuffer.allocateDirect((int) Math.min(UPLOAD_CHUNK, bytes));
                staging.clear();
                staging.put(src).flip();
                src = staging;
            }
            clEnqueueWriteBuffer(queue, m.mem(), CL_TRUE, off, len, Pointer.to(src), 0, null, null);
        }
        return new ClWeight(m, t.name(), type, t.rowLength(), t.rowCount(), t.rowBytes());
    }

    @Override
    public Buffer allocate(long n, String name) {
        Mem m = alloc(Math.multiplyExact(n, 4L), CL_MEM_READ_WRITE, "buffer " + name);
        zero(m);
        return new ClBuffer(m, n, name);
    }

    @Override
    public IntBuffer allocateInts(int n, String name) {
        Mem m = alloc(4L * n, CL_MEM_READ_WRITE, "int buffer " + name);
        zero(m);
        return new ClInts(m, n, name);
    }

    @Override
    public KvBuffer allocateKv(int slots, int kvDim, String name) {
        long bytes = Math.multiplyExact((long) slots * kvDim, 2L);
        Mem k = alloc(bytes, CL_MEM_READ_WRITE, "KV cache " + name + " (K)");
        Mem v = alloc(bytes, CL_MEM_READ_WRITE, "KV cache " + name + " (V)");
        zero(k);
        zero(v);
        return new ClKv(k, v, slots, kvDim, name);
    }

    /** clReleaseMemObject: OpenCL deletes the object once the commands already queued on it have finished. */
    @Override
    public void free(Allocation a) {
        switch (a) {
            case ClBuffer b -> release(b.m());
            case ClInts b -> release(b.m());
            case ClKv kv -> {
                release(kv.k());
                release(kv.v());
            }
            default -> throw new IllegalArgumentException("opencl: " + a.name() + " was not allocated by this backend");
        }
    }

    private void release(Mem m) {
        if (m.owner() != this) throw new IllegalArgumentException("opencl: memory of another backend");
        Long bytes = allocations.remove(m.mem());
        if (bytes == null) return; // freed already (or by close)
        allocatedBytes -= bytes;
        clReleaseMemObject(m.mem());
    }

    @Override
    public long allocatedBytes() {
        return allocatedBytes;
    }

    @Override
    public void write(Buffer dst, long dstOff, float[] src, int srcOff, int n) {
        ClBuffer b = buf(dst);
        checkRange(b.name(), dstOff, n, b.size());
        if (n == 0) return;
        clEnqueueWriteBuffer(queue, b.m().mem(), CL_TRUE, 4 * dstOff, 4L * n, Pointer.to(src).withByteOffset(4L * srcOff),
                0, null, null);
    }

    @Override
    public void writeInts(IntBuffer dst, int[] src, int n) {
        ClInts b = ints(dst);
        checkRange(b.name(), 0, n, b.size());
        if (n == 0) return;
        clEnqueueWriteBuffer(queue, b.m().mem(), CL_TRUE, 0, 4L * n, Pointer.to(src), 0, null, null);
    }

    @Override
    public void read(Buffer src, long srcOff, float[] dst, int dstOff, int n) {
        ClBuffer b = buf(src);
        checkRange(b.name(), srcOff, n, b.size());
        if (n == 0) return;
        clEnqueueReadBuffer(queue, b.m().mem(), CL_TRUE, 4 * srcOff, 4L * n, Pointer.to(dst).withByteOffset(4L * dstOff),
                0, null, null);
    }

    @Override
    public void readInts(IntBuffer src, int[] dst, int n) {
        ClInts b = ints(src);
        checkRange(b.name(), 0, n, b.size());
        if (n == 0) return;
        clEnqueueReadBuffer(queue, b.m().mem(), CL_TRUE, 0, 4L * n, Pointer.to(dst), 0, null, null);
    }

    // ---- ops ----------------------------------------------------------------------------------------------

    @Override
    public void embed(Weight table, IntBuffer tokens, int n, float scale, Buffer out) {
        ClWeight w = weight(table, Op.EMBED);
        int k = Math.toIntExact(w.cols());
        need(out, (long) n * k, "embed out");
        need(tokens, n, "embed tokens");
        if (n == 0) return;
        launch.begin("get_rows_" + kernelType(w.type())).mem(w.m()).ulong(w.rowBytes()).i(k).i(Math.toIntExact(w.rows()))
                .mem(ints(tokens).m()).mem(buf(out).m()).f(scale).run(chunks(k), n, 1, 0);
    }

    @Override
    public void rmsNorm(Buffer x, Weight weight, int rows, int dim, float eps, Buffer out) {
        ClWeight w = weight(weight, Op.RMS_NORM);
        if (w.cols() * w.rows() != dim) {
            throw new IllegalArgumentException("rmsNorm: weight " + w.name() + " has " + w.cols() * w.rows() + " elements, dim is " + dim);
        }
        need(x, (long) rows * dim, "rmsNorm x");
        need(out, (long) rows * dim, "rmsNorm out");
        if (rows == 0) return;
        launch.begin("rms_norm").mem(buf(x).m()).mem(w.m()).i(dim).f(eps).mem(buf(out).m()).run((long) rows * WG, 1, 1, WG);
    }

    @Override
    public void matmul(Weight weight, Buffer x, int n, Buffer out) {
        ClWeight w = weight(weight, Op.MATMUL);
        int k = Math.toIntExact(w.cols());
        int rows = Math.toIntExact(w.rows());
        need(x, (long) n * k, "matmul x");
        need(out, (long) n * rows, "matmul out");
        if (n == 0) return;
        launch.begin("mul_mv_" + kernelType(w.type()) + "_f32").mem(w.m()).ulong(w.rowBytes()).i(k).i(rows)
                .mem(buf(x).m()).mem(buf(out).m()).i(n).run((long) rows * WG, (n + ClProgram.NT - 1) / ClProgram.NT, 1, WG);
    }

    @Override
    public void rope(Buffer x, int n, int nHeads, int headDim, IntBuffer positions, float base, float freqScale) {
        if (headDim % 2 != 0) throw new IllegalArgumentException("rope: headDim " + headDim + " is odd");
        need(x, (long) n * nHeads * headDim, "rope x");
        need(positions, n, "rope positions");
        if (n == 0) return;
        float thetaScale = (float) Math.pow(base, -2.0f / headDim); // powf(freq_base, -2.0f/n_dims)
        launch.begin("rope_neox").mem(buf(x).m()).i(nHeads).i(headDim).mem(ints(positions).m()).f(thetaScale).f(freqScale)
                .run(headDim / 2, nHeads, n, 0);
    }

    @Override
    public void kvAppend(Buffer k, Buffer v, int n, IntBuffer positions, KvBuffer cache) {
        ClKv c = kv(cache);
        need(k, (long) n * c.kvDim(), "kvAppend k");
        need(v, (long) n * c.kvDim(), "kvAppend v");
        need(positions, n, "kvAppend positions");
        if (n == 0) return;
        launch.begin("kv_append").mem(buf(k).m()).mem(buf(v).m()).i(c.kvDim()).mem(ints(positions).m()).i(c.slots())
                .mem(c.k()).mem(c.v()).run(c.kvDim(), n, 1, 0);
    }

    @Override
    public void attention(Buffer q, KvBuffer cache, int n, IntBuffer positions, int nHead, int nKvHead, int headDim,
                          int window, float scale, Buffer out) {
        attentionNonCausal(q, cache, n, positions, nHead, nKvHead, headDim, window, scale, -1, out);
    }

    /** attention.cl, or attention_non_causal.cl (the image chunk of a vision prompt) when horizon ≥ 0. */
    @Override
    public void attentionNonCausal(Buffer q, KvBuffer cache, int n, IntBuffer positions, int nHead, int nKvHead, int headDim,
                                   int window, float scale, int horizon, Buffer out) {
        ClKv c = kv(cache);
        if (nKvHead <= 0 || nHead % nKvHead != 0) {
            throw new IllegalArgumentException("attention: nHead " + nHead + " is not a multiple of nKvHead " + nKvHead);
        }
        if (nKvHead * headDim != c.kvDim()) {
            throw new IllegalArgumentException("attention: nKvHead*headDim = " + nKvHead * headDim + " but cache "
                    + c.name() + " has kvDim " + c.kvDim());
        }
        if (headDim > WG * ClProgram.ATT_DPT) {
            throw new IllegalArgumentException("attention: headDim " + headDim + " exceeds " + WG * ClProgram.ATT_DPT);
        }
        need(q, (long) n * nHead * headDim, "attention q");
        need(out, (long) n * nHead * headDim, "attention out");
        need(positions, n, "attention positions");
        if (n == 0) return;
        if (horizon < 0) {
            launch.begin("attention").mem(buf(q).m()).mem(c.k()).mem(c.v()).i(c.slots()).mem(ints(positions).m()).i(nHead)
                    .i(nKvHead).i(headDim).i(window).f(scale).mem(buf(out).m()).run((long) nHead * WG, n, 1, WG);
        } else {
            launch.begin("attention_non_causal").mem(buf(q).m()).mem(c.k()).mem(c.v()).i(c.slots()).mem(ints(positions).m())
                    .i(nHead).i(nKvHead).i(headDim).i(window).i(horizon).f(scale).mem(buf(out).m()).run((long) nHead * WG, n, 1, WG);
        }
    }

    @Override
    public void geglu(Buffer gate, Buffer up, long n, Buffer out) {
        need(gate, n, "geglu gate");
        need(up, n, "geglu up");
        need(out, n, "geglu out");
        if (n == 0) return;
        launch.begin("geglu").mem(buf(gate).m()).mem(buf(up).m()).mem(buf(out).m()).ulong(n).run(roundUp(n), 1, 1, WG);
    }

    @Override
    public void add(Buffer acc, Buffer x, long n) {
        need(acc, n, "add acc");
        need(x, n, "add x");
        if (n == 0) return;
        launch.begin("add").mem(buf(acc).m()).mem(buf(x).m()).ulong(n).run(roundUp(n), 1, 1, WG);
    }

    @Override
    public void softcap(Buffer x, long n, float cap) {
        need(x, n, "softcap x");
        if (n == 0) return;
        launch.begin("softcap").mem(buf(x).m()).f(cap).ulong(n).run(roundUp(n), 1, 1, WG);
    }

    @Override
    public void copy(Buffer src, long srcOff, Buffer dst, long dstOff, long n) {
        ClBuffer s = buf(src);
        ClBuffer d = buf(dst);
        checkRange(s.name(), srcOff, n, s.size());
        checkRange(d.name(), dstOff, n, d.size());
        if (n == 0) return;
        if (s.m() == d.m() && srcOff < dstOff + n && dstOff < srcOff + n) {
            throw new IllegalArgumentException("copy: ranges [" + srcOff + ", +" + n + ") and [" + dstOff + ", +" + n
                    + ") of " + s.name() + " overlap");
        }
        clEnqueueCopyBuffer(queue, s.m().mem(), d.m().mem(), 4 * srcOff, 4 * dstOff, 4 * n, 0, null, null);
    }

    @Override
    public void argmax(Buffer x, int rows, int dim, IntBuffer out) {
        need(x, (long) rows * dim, "argmax x");
        need(out, rows, "argmax out");
        if (rows == 0) return;
        launch.begin("argmax").mem(buf(x).m()).i(dim).mem(ints(out).m()).run((long) rows * WG, 1, 1, WG);
    }

    @Override
    public void synchronize() {
        clFinish(queue);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            clFinish(queue);
        } finally {
            for (cl_mem m : allocations.keySet()) clReleaseMemObject(m);
            allocations.clear();
            allocatedBytes = 0;
            kernels.close();
            clReleaseCommandQueue(queue);
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private static String kernelType(GgmlType t) {
        return t.name().toLowerCase(Locale.ROOT);
    }

    private static long chunks(int k) {
        return (k + 31) / 32;
    }

    private static long roundUp(long n) {
        return (n + WG - 1) / WG * WG;
    }

    private static void checkRange(String name, long off, long n, long size) {
        if (off < 0 || n < 0 || off + n > size) {
            throw new IndexOutOfBoundsException("buffer " + name + ": range [" + off + ", " + (off + n) + ") outside [0, " + size + ")");
        }
    }

    private void need(Buffer b, long n, String what) {
        if (buf(b).size() < n) throw new IllegalArgumentException(what + ": buffer " + b.name() + " has " + b.size() + " floats, needs " + n);
    }

    private void need(IntBuffer b, long n, String what) {
        if (ints(b).size() < n) throw new IllegalArgumentException(what + ": int buffer " + b.name() + " has " + b.size() + " ints, needs " + n);
    }

    private ClBuffer buf(Buffer b) {
        if (b instanceof ClBuffer c && c.m().owner() == this) return c;
        throw new IllegalArgumentException("buffer " + b.name() + " does not belong to this OpenCL backend");
    }

    private ClInts ints(IntBuffer b) {
        if (b instanceof ClInts c && c.m().owner() == this) return c;
        throw new IllegalArgumentException("int buffer " + b.name() + " does not belong to this OpenCL backend");
    }

    private ClKv kv(KvBuffer b) {
        if (b instanceof ClKv c && c.k().owner() == this) return c;
        throw new IllegalArgumentException("KV cache " + b.name() + " does not belong to this OpenCL backend");
    }

    private ClWeight weight(Weight w, Op op) {
        if (!(w instanceof ClWeight c) || c.m().owner() != this) {
            throw new IllegalArgumentException("weight " + w.name() + " was not uploaded to this OpenCL backend");
        }
        if (!supportsOp(op, c.type())) throw new UnsupportedOperationException(op + " with a " + c.type() + " weight (" + c.name() + ")");
        return c;
    }

    /** Sets a kernel's arguments in order and enqueues it; reused, so a launch allocates nothing but JOCL's own. */
    private final class Launch {
        private final int[] intArg = new int[1];
        private final long[] longArg = new long[1];
        private final float[] floatArg = new float[1];
        private final Pointer intPtr = Pointer.to(intArg);
        private final Pointer longPtr = Pointer.to(longArg);
        private final Pointer floatPtr = Pointer.to(floatArg);
        private final long[] global = new long[3];
        private final long[] local = new long[3];
        private cl_kernel kernel;
        private String name;
        private int arg;

        Launch begin(String kernelName) {
            if (closed) throw new IllegalStateException("the OpenCL backend is closed");
            kernel = kernels.get(kernelName);
            name = kernelName;
            arg = 0;
            return this;
        }

        Launch mem(Mem m) {
            clSetKernelArg(kernel, arg++, Sizeof.cl_mem, m.arg());
            return this;
        }

        Launch i(int v) {
            intArg[0] = v;
            clSetKernelArg(kernel, arg++, Sizeof.cl_int, intPtr);
            return this;
        }

        Launch ulong(long v) {
            longArg[0] = v;
            clSetKernelArg(kernel, arg++, Sizeof.cl_ulong, longPtr);
            return this;
        }

        Launch f(float v) {
            floatArg[0] = v;
            clSetKernelArg(kernel, arg++, Sizeof.cl_float, floatPtr);
            return this;
        }

        /** Global size (g0, g1, g2); local (l0, 1, 1), or the driver's choice when l0 is 0. */
        void run(long g0, long g1, long g2, int l0) {
            global[0] = g0;
            global[1] = g1;
            global[2] = g2;
            local[0] = l0;
            local[1] = 1;
            local[2] = 1;
            int dims = g2 > 1 ? 3 : g1 > 1 ? 2 : 1;
            try {
                clEnqueueNDRangeKernel(queue, kernel, dims, null, global, l0 > 0 ? local : null, 0, null, null);
            } catch (CLException e) {
                throw new IllegalStateException("enqueueing OpenCL kernel " + name + " (global " + g0 + "×" + g1 + "×" + g2
                        + ", local " + l0 + ") on " + device.fullName() + " failed: " + e.getMessage(), e);
            }
        }
    }
}
