package org.jgemma.cuda;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
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
 * The CUDA backend. Weights are uploaded once in their packed GGML form; activations, the f16 KV cache and logits
 * stay on the device; ops are kernel launches on one stream, so nothing waits for the device until
 * {@link #read}/{@link #readInts}. {@link #runStep} records a step into a CUDA graph and replays it with one graph
 * launch (a JCuda launch costs ~12 µs; a graph replays hundreds at once). The driver underneath is a
 * {@link CudaDriver}: JCuda on a GPU, or the host driver that runs the same kernels on the CPU (CI).
 *
 * <p>Threads: the model drives one step at a time, but sessions may be opened (buffers allocated) on other threads
 * meanwhile; every public method holds one lock, so an allocation waits for a capture instead of landing in it, and
 * the driver's context is made current on whichever thread calls.
 */
public final class CudaBackend implements Backend {
    /** Most recorded steps kept (least recently used destroyed first): prompt chunks of many lengths must not pile up. */
    static final int MAX_GRAPHS = 8;

    private final CudaDriver driver;
    private final Kernels kernels;
    private final ReentrantLock lock = new ReentrantLock();
    private record Held(long bytes, String what) {}

    /** Live device allocations (weights, buffers, KV caches, scratch); free and close release them. */
    private final LinkedHashMap<DevPtr, Held> allocations = new LinkedHashMap<>();
    private long allocatedBytes;
    private final LinkedHashMap<Object, CudaDriver.Graph> graphs = new LinkedHashMap<>(16, 0.75f, true);
    private final Map<Object, Integer> seen = new HashMap<>();
    private final Scratch q8qs = new Scratch("q8_1 quants"), q8ds = new Scratch("q8_1 factors"),
            faAcc = new Scratch("attention partial sums"), faMs = new Scratch("attention partial maxima");
    private long weightBytes, kvBytes, bufferBytes, scratchBytes;
    private Object capturing;
    private boolean closed;

    CudaBackend(CudaDriver driver) {
        this.driver = driver;
        this.kernels = new Kernels(driver);
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String deviceName() {
        return driver.deviceName();
    }

    /** Which driver runs the kernels: "jcuda" (a GPU) or "host" (the CPU, for tests). */
    public String driverKind() {
        return driver.kind();
    }

    /** Kernel launches executed by this backend so far (eager ones, plus each kernel of each graph replay). */
    public long kernelLaunches() {
        return kernels.launches();
    }

    /** The driver {@code --backend cuda} uses here: "host" (JGEMMA_CUDA_DRIVER=host, the kernels on the CPU) or "jcuda". */
    public static String configuredDriver() {
        return CudaBackendProvider.driverKind();
    }

    /** What one kernel costs in a recorded step: its launches and the device bytes they read (estimated from the shapes). */
    public record KernelCost(String kernel, int launches, long bytesRead) {}

    /**
     * The model of the step recorded last by any CUDA backend of this process (the decode step, for {@code bench
     * --json}): per kernel (the mat-vec widths _ncN merged) the launches and the bytes they read, in order of first
     * launch. Attention is counted at the full span its layer can see (window, else the KV cache): an upper bound.
     */
    public static List<KernelCost> lastStepModel() {
        Map<String, long[]> m = new LinkedHashMap<>();
        for (Kernels.StepLaunch l : Kernels.lastStep) {
            long[] c = m.computeIfAbsent(l.kernel().replaceAll("_nc\\d+$", ""), k -> new long[2]);
            c[0]++;
            c[1] += Math.max(0, l.bytesRead());
        }
        List<KernelCost> out = new ArrayList<>();
        m.forEach((k, c) -> out.add(new KernelCost(k, (int) c[0], c[1])));
        return out;
    }

    /** Kernel launches executed by every CUDA backend of this process (what {@code bench --json} reports per token). */
    public static long totalKernelLaunches() {
        return Kernels.TOTAL.sum();
    }

    /**
     * Weight bytes the matmuls of every CUDA backend of this process read (each launch's tiles or column passes times
     * the weight's bytes), and what the 8-column mat-vec alone would have read for the same calls: {@code bench --json}
     * reports both for its prompt (PrefillOps); third, the bytes of the weights those matmuls multiplied (each call
     * once), the unit of the first two.
     */
    public static long[] totalWeightBytesRead() {
        return new long[] {PrefillOps.weightBytesRead(), PrefillOps.weightBytesReadByMatVec(), PrefillOps.weightBytes()};
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
        return locked(() -> driver.memInfo()[0]);
    }

    /**
     * What a model needs against what is free now: call before uploading ({@code estimate(...).check(deviceName())})
     * to fail at once, with the numbers, instead of during the upload.
     */
    public MemoryEstimate estimate(Collection<GgufTensorInfo> weights, int layers, int slots, int kvDim, long scratchBytes) {
        long[] info = locked(driver::memInfo);
        return new MemoryEstimate(MemoryEstimate.weightBytes(weights), MemoryEstimate.kvBytes(layers, slots, kvDim),
                scratchBytes, info[0], info[1]);
    }

    // ---- memory -------------------------------------------------------------------------------------------

    /** The f16 KV cache takes 2 bytes an element; fails with the numbers (MemoryEstimate#describe) when it does not fit. */
    @Override
    public void checkFits(long weightBytes, long kvElements, long scratchBytes) {
        long[] info = locked(driver::memInfo);
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
        return locked(() -> {
            noCapture("upload(" + t.name() + ")");
            DevPtr ptr = alloc(bytes, "weight " + t.name());
            weightBytes += bytes;
            driver.copyToDevice(ptr, src, bytes, "upload of " + t.name());
            return new Packed(this, ptr, t.name(), t.type(), t.rowLength(), t.rowCount(), t.rowBytes());
        });
    }

    @Override
    public Buffer allocate(long n, String name) {
        return locked(() -> {
            noCapture("allocate(" + name + ")");
            DevPtr p = alloc(4 * Math.max(1, n), "buffer " + name);
            bufferBytes += 4 * Math.max(1, n);
            driver.memsetD32(p, 0, Math.max(1, n), "zero " + name);
            return new Floats(this, p, n, name);
        });
    }

    @Override
    public IntBuffer allocateInts(int n, String name) {
        return locked(() -> {
            noCapture("allocateInts(" + name + ")");
            DevPtr p = alloc(4L * Math.max(1, n), "int buffer " + name);
            driver.memsetD32(p, 0, Math.max(1, n), "zero " + name);
            return new Ints(this, p, n, name);
        });
    }

    @Override
    public KvBuffer allocateKv(int slots, int kvDim, String name) {
        long bytes = (2L * slots * kvDim + 3) / 4 * 4;  // f16, rounded up to whole words for the zero fill
        return locked(() -> {
            noCapture("allocateKv(" + name + ")");
            DevPtr k = alloc(bytes, "KV cache " + name + " K"), v = alloc(bytes, "KV cache " + name + " V");
            kvBytes += 2 * bytes;
            driver.memsetD32(k, 0, bytes / 4, "zero " + name + " K");
            driver.memsetD32(v, 0, bytes / 4, "zero " + name + " V");
            return new Kv(this, k, v, slots, kvDim, name);
        });
    }

    @Override
    public void write(Buffer dst, long dstOff, float[] src, int srcOff, int n) {
        Floats d = floats(dst, "write");
        checkRange(d, dstOff, n, "write");
        locked(() -> {
            noCapture("write(" + d.name() + ")");
            q8.wrote(d);
            driver.copyToDevice(d.ptr().plus(4 * dstOff), MemorySegment.ofArray(src).asSlice(4L * srcOff, 4L * n), 4L * n,
                    "write(" + d.name() + ", " + n + " floats)");
            return null;
        });
    }

    @Override
    public void writeInts(IntBuffer dst, int[] src, int n) {
        Ints d = ints(dst, "writeInts");
        if (n > d.size()) throw new IndexOutOfBoundsException("writeInts: " + n + " ints into " + d.name() + " of " + d.size());
        locked(() -> {
            noCapture("writeInts(" + d.name() + ")");
            driver.copyToDevice(d.ptr(), MemorySegment.ofArray(src), 4L * n, "writeInts(" + d.name() + ", " + n + " ints)");
            return null;
        });
    }

    @Override
    public void read(Buffer src, long srcOff, float[] dst, int dstOff, int n) {
        Floats s = floats(src, "read");
        checkRange(s, srcOff, n, "read");
        locked(() -> {
            noCapture("read(" + s.name() + ")");
            driver.copyToHost(MemorySegment.ofArray(dst).asSlice(4L * dstOff, 4L * n), s.ptr().plus(4 * srcOff), 4L * n,
                    "read(" + s.name() + ", " + n + " floats)");
            return null;
        });
    }

    @Override
    public void readInts(IntBuffer src, int[] dst, int n) {
        Ints s = ints(src, "readInts");
        if (n > s.size()) throw new IndexOutOfBoundsException("readInts: " + n + " ints from " + s.name() + " of " + s.size());
        locked(() -> {
            noCapture("readInts(" + s.name() + ")");
            driver.copyToHost(MemorySegment.ofArray(dst), s.ptr(), 4L * n, "readInts(" + s.name() + ", " + n + " ints)");
            return null;
        });
    }

    // ---- ops (CudaOps holds the launches) ----------------------------------------------------------------

    private final CudaOps ops = new CudaOps(this);
    private final Q8Cache q8 = new Q8Cache(this);
    private final FusedOps fused = new FusedOps(this, ops);

    @Override
    public void embed(Weight table, IntBuffer tokens, int n, float scale, Buffer out) {
        op(() -> ops.embed(packed(table, "embed"), ints(tokens, "embed"), n, scale, wrote(out, "embed")));
    }

    @Override
    public void rmsNorm(Buffer x, Weight weight, int rows, int dim, float eps, Buffer out) {
        op(() -> ops.rmsNorm(floats(x, "rmsNorm"), packed(weight, "rmsNorm"), rows, dim, eps, wrote(out, "rmsNorm")));
    }

    @Override
    public void matmul(Weight w, Buffer x, int n, Buffer out) {
        op(() -> ops.matmul(packed(w, "matmul"), floats(x, "matmul"), n, wrote(out, "matmul")));
    }

    @Override
    public void rope(Buffer x, int n, int nHeads, int headDim, IntBuffer positions, float base, float freqScale) {
        op(() -> ops.rope(wrote(x, "rope"), n, nHeads, headDim, ints(positions, "rope"), base, freqScale));
    }

    @Override
    public void kvAppend(Buffer k, Buffer v, int n, IntBuffer positions, KvBuffer cache) {
        op(() -> ops.kvAppend(floats(k, "kvAppend"), floats(v, "kvAppend"), n, ints(positions, "kvAppend"), kv(cache, "kvAppend")));
    }

    @Override
    public void attention(Buffer q, KvBuffer cache, int n, IntBuffer positions, int nHead, int nKvHead, int headDim,
                          int window, float scale, Buffer out) {
        op(() -> ops.attention(floats(q, "attention"), kv(cache, "attention"), n, ints(positions, "attention"), nHead, nKvHead,
                headDim, window, scale, wrote(out, "attention")));
    }

    @Override
    public void attentionNonCausal(Buffer q, KvBuffer cache, int n, IntBuffer positions, int nHead, int nKvHead, int headDim,
                                   int window, float scale, int horizon, Buffer out) {
        if (horizon < 0) {
            attention(q, cache, n, positions, nHead, nKvHead, headDim, window, scale, out);
            return;
        }
        op(() -> ops.attentionNonCausal(floats(q, "attentionNonCausal"), kv(cache, "attentionNonCausal"), n,
                ints(positions, "attentionNonCausal"), nHead, nKvHead, headDim, window, scale, horizon,
                wrote(out, "attentionNonCausal")));
    }

    @Override
    public void geglu(Buffer gate, Buffer up, long n, Buffer out) {
        op(() -> ops.geglu(floats(gate, "geglu"), floats(up, "geglu"), n, wrote(out, "geglu")));
    }

    @Override
    public void add(Buffer acc, Buffer x, long n) {
        op(() -> ops.add(wrote(acc, "add"), floats(x, "add"), n));
    }

    @Override
    public void softcap(Buffer x, long n, float cap) {
        op(() -> ops.softcap(wrote(x, "softcap"), n, cap));
    }

    @Override
    public void copy(Buffer src, long srcOff, Buffer dst, long dstOff, long n) {
        op(() -> ops.copy(floats(src, "copy"), srcOff, wrote(dst, "copy"), dstOff, n));
    }

    @Override
    public void argmax(Buffer x, int rows, int dim, IntBuffer out) {
        op(() -> ops.argmax(floats(x, "argmax"), rows, dim, ints(out, "argmax")));
    }

    // ---- fused ops of the decode step (FusedOps holds the launches; where a kernel does not apply, the SPI's
    // composition of the plain ops runs) ---------------------------------------------------------------------

    @Override
    public void matmul3(Weight w1, Weight w2, Weight w3, Buffer x, int n, Buffer out1, Buffer out2, Buffer out3) {
        boolean done = locked(() -> fused.matmulN(new Packed[] {packed(w1, "matmul3"), packed(w2, "matmul3"), packed(w3, "matmul3")},
                floats(x, "matmul3"), n, new Floats[] {wrote(out1, "matmul3"), wrote(out2, "matmul3"), wrote(out3, "matmul3")}));
        if (!done) Backend.super.matmul3(w1, w2, w3, x, n, out1, out2, out3);
    }

    @Override
    public void matmul2(Weight w1, Weight w2, Buffer x, int n, Buffer out1, Buffer out2) {
        boolean done = locked(() -> fused.matmulN(new Packed[] {packed(w1, "matmul2"), packed(w2, "matmul2")}, floats(x, "matmul2"), n,
                new Floats[] {wrote(out1, "matmul2"), wrote(out2, "matmul2")}));
        if (!done) Backend.super.matmul2(w1, w2, x, n, out1, out2);
    }

    @Override
    public void matmulGeglu(Weight gate, Weight up, Buffer x, int n, Buffer out, Buffer upScratch) {
        boolean done = locked(() -> fused.matmulGeglu(packed(gate, "matmulGeglu"), packed(up, "matmulGeglu"), floats(x, "matmulGeglu"),
                n, wrote(out, "matmulGeglu")));
        if (!done) Backend.super.matmulGeglu(gate, up, x, n, out, upScratch);
    }

    @Override
    public void qkNormRopeAppend(Buffer q, Buffer k, Buffer v, Weight qNorm, Weight kNorm, int n, int nHead, int nKvHead,
                                 int headDim, float eps, IntBuffer positions, float base, float freqScale, KvBuffer cache) {
        locked(() -> fused.qkNormRopeAppend(wrote(q, "qkNormRopeAppend"), wrote(k, "qkNormRopeAppend"), floats(v, "qkNormRopeAppend"),
                packed(qNorm, "qkNormRopeAppend"), packed(kNorm, "qkNormRopeAppend"), n, nHead, nKvHead, headDim, eps,
                ints(positions, "qkNormRopeAppend"), base, freqScale, cache == null ? null : kv(cache, "qkNormRopeAppend")));
    }

    @Override
    public void rmsNormAddNorm(Buffer a, Weight postNorm, Buffer x, Weight nextNorm, int rows, int dim, float eps, Buffer out) {
        boolean done = locked(() -> fused.rmsNormAddNorm(wrote(a, "rmsNormAddNorm"), packed(postNorm, "rmsNormAddNorm"),
                wrote(x, "rmsNormAddNorm"), nextNorm == null ? null : packed(nextNorm, "rmsNormAddNorm"), rows, dim, eps,
                nextNorm == null ? null : wrote(out, "rmsNormAddNorm")));
        if (!done) Backend.super.rmsNormAddNorm(a, postNorm, x, nextNorm, rows, dim, eps, out);
    }

    /** An op's output: its q8_1 form (Q8Cache) is stale from here on, unless the op itself writes it anew. */
    private Floats wrote(Buffer b, String op) {
        Floats f = floats(b, op);
        q8.wrote(f);
        return f;
    }

    // ---- steps --------------------------------------------------------------------------------------------

    /**
     * Runs {@code step}; the second time a {@code key} is seen, records what it enqueues into a graph (stream capture)
     * and launches the graph, and from then on only launches it. A key run once (a prompt chunk of a length not seen
     * before) is never recorded, and at most {@link #MAX_GRAPHS} graphs are kept, least recently used destroyed first.
     * Everything that changes between replays (token ids, positions) must be read by the kernels from device buffers,
     * and the shapes (n tokens) must be part of the key. A step must not read from or write to the host.
     */
    @Override
    public void runStep(Object key, Runnable step) {
        locked(() -> {
            q8.clear();  // a step assumes no q8_1 form left from before it, and leaves none behind (Q8Cache)
            try {
                return runStepLocked(key, step);
            } finally {
                q8.clear();
            }
        });
    }

    private Void runStepLocked(Object key, Runnable step) {
        ensureOpen();
        if (capturing != null) throw new IllegalStateException("cuda: runStep(" + key + ") inside the capture of " + capturing);
        CudaDriver.Graph g = graphs.get(key);
        if (g == null) {
            int times = seen.merge(key, 1, Integer::sum);
            if (seen.size() > 64) seen.clear();  // keys seen once are not worth remembering for long
            if (times < 2) {
                step.run();
                return null;
            }
            seen.remove(key);
            g = capture(key, step);
            graphs.put(key, g);
            while (graphs.size() > MAX_GRAPHS) {
                var eldest = graphs.entrySet().iterator().next();
                graphs.remove(eldest.getKey());
                driver.destroyGraph(eldest.getValue());
            }
        }
        driver.launchGraph(g, "step " + key);
        kernels.counted(g.kernels().size());
        return null;
    }

    private CudaDriver.Graph capture(Object key, Runnable step) {
        driver.beginCapture("step " + key);
        capturing = key;
        kernels.record(true);
        try {
            step.run();
        } catch (RuntimeException | Error e) {
            try {
                driver.abortCapture();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        } finally {
            capturing = null;
            List<Kernels.StepLaunch> launched = kernels.record(false);
            if (launched != null) Kernels.lastStep = List.copyOf(launched);
        }
        return driver.endCapture("step " + key);
    }

    /**
     * Destroys the graph recorded under {@code key}, if any, after the stream has drained (its session's buffers are
     * about to be freed; a replay of it afterwards would read freed memory).
     */
    @Override
    public void forgetStep(Object key) {
        lock.lock();
        try {
            seen.remove(key);
            CudaDriver.Graph g = graphs.remove(key);
            if (g == null || closed) return;
            driver.makeCurrent();
            driver.synchronize("forgetStep");
            driver.destroyGraph(g);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Gives the device memory of a buffer, int buffer or KV cache back (cuMemFree after the stream has drained: a
     * queued kernel may still read it); a second free does nothing. Steps recorded with it must be forgotten first:
     * the host driver fails a replay that reads freed memory.
     */
    @Override
    public void free(Allocation a) {
        lock.lock();
        try {
            if (closed) return;
            driver.makeCurrent();
            noCapture("free(" + a.name() + ")");
            switch (a) {
                case Floats f when f.owner() == this -> {
                    q8.release(f);
                    if (release(f.ptr())) bufferBytes -= 4 * Math.max(1, f.size());
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
        } finally {
            lock.unlock();
        }
    }

    private boolean release(DevPtr p) {
        Held h = allocations.remove(p);
        if (h == null) return false;
        driver.synchronize("free(" + h.what() + ")");
        allocatedBytes -= h.bytes();
        driver.free(p, h.what());
        return true;
    }

    /**
     * Device bytes held for the caller: weights, buffers and KV caches. The backend's scratch (q8_1 activations,
     * attention partials: sized by the largest batch seen, and kept for recorded steps) is not counted.
     */
    @Override
    public long allocatedBytes() {
        lock.lock();
        try {
            return allocatedBytes;
        } finally {
            lock.unlock();
        }
    }

    /** The kernels of the graph recorded for {@code key}, in order, or null if none is (tests, launch counts). */
    List<String> recordedKernels(Object key) {
        return locked(() -> {
            CudaDriver.Graph g = graphs.get(key);
            return g == null ? null : g.kernels();
        });
    }

    /** The kernels of every recorded step held, least recently used first. */
    List<List<String>> recordedSteps() {
        return locked(() -> graphs.values().stream().map(CudaDriver.Graph::kernels).toList());
    }

    /** Recorded steps currently held. */
    int graphCount() {
        return locked(graphs::size);
    }

    @Override
    public void synchronize() {
        locked(() -> {
            noCapture("synchronize");
            driver.synchronize("synchronize");
            return null;
        });
    }

    /**
     * Destroys the graphs, frees every allocation and closes the driver; every step is attempted even when one fails,
     * and the first failure is thrown at the end with the others suppressed.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            List<RuntimeException> errors = new ArrayList<>();
            attempt(errors, driver::makeCurrent);
            attempt(errors, () -> driver.synchronize("close"));
            for (CudaDriver.Graph g : graphs.values()) attempt(errors, () -> driver.destroyGraph(g));
            graphs.clear();
            for (var e : allocations.entrySet()) attempt(errors, () -> driver.free(e.getKey(), e.getValue().what()));
            allocations.clear();
            allocatedBytes = scratchBytes = 0;
            attempt(errors, driver::close);
            if (!errors.isEmpty()) {
                RuntimeException first = errors.getFirst();
                for (RuntimeException e : errors.subList(1, errors.size())) first.addSuppressed(e);
                throw first;
            }
        } finally {
            lock.unlock();
        }
    }

    private static void attempt(List<RuntimeException> errors, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            errors.add(e);
        }
    }

    // ---- package-private helpers for CudaOps ----------------------------------------------------------------

    Kernels kernels() {
        return kernels;
    }

    Q8Cache q8() {
        return q8;
    }

    /** Device memory the backend keeps for itself (not counted by allocatedBytes); freed by {@link #freeScratch} or close. */
    DevPtr allocScratch(long bytes, String what) {
        DevPtr p = alloc(bytes, "scratch " + what);
        allocatedBytes -= bytes;
        scratchBytes += bytes;
        return p;
    }

    void freeScratch(DevPtr p) {
        Held h = allocations.get(p);
        if (h == null) return;
        allocatedBytes += h.bytes();
        scratchBytes -= h.bytes();
        release(p);
    }

    int multiprocessors() {
        return driver.multiprocessors();
    }

    CudaDriver driver() {
        return driver;
    }

    /** A scratch buffer of at least {@code bytes}; grows by allocating anew (the old one stays alive for captured graphs). */
    DevPtr scratch(String which, long bytes) {
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
            allocatedBytes -= size;  // the backend's own, grown by the largest batch seen: not the caller's memory
            scratchBytes += size;
        }
        return s.ptr;
    }

    private static final class Scratch {
        final String name;
        DevPtr ptr;
        long bytes;

        Scratch(String name) {
            this.name = name;
        }
    }

    private DevPtr alloc(long bytes, String what) {
        long[] info = driver.memInfo();
        if (bytes + MemoryEstimate.HEADROOM > info[0]) {
            throw new IllegalStateException(String.format("cuda: cannot allocate %s for %s on %s: %s of %s free (resident:"
                            + " weights %s, KV cache %s, buffers %s); try a smaller quantization (e.g. Q4_K_M), a shorter"
                            + " context, or --backend cpu", MemoryEstimate.gib(bytes), what, deviceName(),
                    MemoryEstimate.gib(info[0]), MemoryEstimate.gib(info[1]), MemoryEstimate.gib(weightBytes),
                    MemoryEstimate.gib(kvBytes), MemoryEstimate.gib(bufferBytes)));
        }
        DevPtr p = driver.alloc(bytes, what);
        allocations.put(p, new Held(bytes, what));
        allocatedBytes += bytes;
        return p;
    }

    /** Runs {@code body} holding the backend's lock, with the driver's context current on this thread. */
    private <T> T locked(java.util.function.Supplier<T> body) {
        lock.lock();
        try {
            ensureOpen();
            driver.makeCurrent();
            return body.get();
        } finally {
            lock.unlock();
        }
    }

    private void op(Runnable launch) {
        locked(() -> {
            launch.run();
            return null;
        });
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("cuda backend on " + driver.deviceName() + " is closed");
    }

    private void noCapture(String what) {
        if (capturing != null) {
            throw new IllegalStateException("cuda: " + what + " inside runStep(" + capturing
                    + "): a recorded step must not copy between host and device; do it before or after the step");
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
