package org.jgemma.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The CUDA driver on the CPU: device memory is host memory (256-byte aligned, as cuMemAlloc's), kernels are the .cu
 * files compiled by g++ ({@link HostLibrary}) and run at once, in order (one stream). A stream capture records the
 * launches with their parameter buffers as they were at capture time and a graph launch replays exactly those bytes,
 * so a value baked into a graph that should have come from device memory gives wrong results here as on a GPU.
 *
 * <p>It checks what a GPU would fault on or silently get wrong: every launch's parameters against the kernel's PTX
 * .param list (in {@link KernelArgs}) and against the compiled kernel's own parameter sizes; every pointer argument
 * (also in replays) must point into a live allocation; copies must stay inside their allocation; host copies,
 * memsets and synchronisation inside a capture are refused (CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED on a GPU); and each
 * call must come with this driver's context current on the calling thread (CUDA_ERROR_INVALID_CONTEXT), so a
 * backend that forgets to make its context current after another one ran on the thread fails here.
 */
final class HostDriver implements CudaDriver {
    /** Virtual streaming multiprocessors: sizes the attention splits as on a mid-size GPU (jgemma.cuda.host.sms). */
    static final int DEFAULT_SMS = 16;
    private static final ThreadLocal<HostDriver> CURRENT = new ThreadLocal<>();
    private static final AtomicLong ALLOCATED = new AtomicLong();

    private record Alloc(long size, String what) {}

    private record Node(String kernel, int index, byte[] params, boolean[] pointers, int[] offsets, int[] dims) {}

    private record HostGraph(List<Node> nodes) implements Graph {
        @Override
        public List<String> kernels() {
            return nodes.stream().map(Node::kernel).toList();
        }
    }

    private final HostLibrary lib = HostLibrary.get();
    private final int sms = Integer.getInteger("jgemma.cuda.host.sms", DEFAULT_SMS);
    private final TreeMap<Long, Alloc> allocations = new TreeMap<>();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment paramBuffer = arena.allocate(4096, 16), error = arena.allocate(1024);
    private List<Node> recording;
    private String capturing;
    private long allocated;
    private boolean closed;

    HostDriver() {
        List<String> wrong = new ArrayList<>();
        for (var e : Ptx.signatures().entrySet()) {
            long[] host = lib.paramSizes.get(e.getKey());
            if (host == null) wrong.add(e.getKey() + " is not in the host library");
            else if (!java.util.Arrays.equals(host, e.getValue().sizes())) {
                wrong.add(e.getKey() + " takes " + java.util.Arrays.toString(host) + " bytes of parameters in the host build, "
                        + java.util.Arrays.toString(e.getValue().sizes()) + " in the PTX");
            }
        }
        if (!wrong.isEmpty()) throw new IllegalStateException("CUDA host library " + lib.path + " does not match the PTX: " + wrong);
        makeCurrent();
    }

    @Override
    public String kind() {
        return "host";
    }

    @Override
    public String deviceName() {
        return "host driver (the CUDA kernels compiled for the CPU" + (lib.sanitized ? " with AddressSanitizer/UBSan" : "")
                + ", " + sms + " virtual SMs)";
    }

    boolean sanitized() {
        return lib.sanitized;
    }

    @Override
    public int multiprocessors() {
        return sms;
    }

    @Override
    public void makeCurrent() {
        CURRENT.set(this);
    }

    private void current(String what) {
        if (closed) throw new Cu.CallException(what + ": CUDA_ERROR_CONTEXT_IS_DESTROYED (host driver closed)", null);
        if (CURRENT.get() != this) {
            throw new Cu.CallException(what + ": CUDA_ERROR_INVALID_CONTEXT (another context is current on thread "
                    + Thread.currentThread().getName() + ")", null);
        }
    }

    @Override
    public DevPtr alloc(long bytes, String what) {
        current("cuMemAlloc(" + what + ")");
        if (bytes <= 0) throw new Cu.CallException("cuMemAlloc(" + what + ", " + bytes + " bytes): CUDA_ERROR_INVALID_VALUE", null);
        MemorySegment p;
        try {
            p = (MemorySegment) lib.alloc.invokeExact(bytes);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (p.address() == 0) throw new Cu.CallException("cuMemAlloc(" + what + ", " + bytes + " bytes): CUDA_ERROR_OUT_OF_MEMORY", null);
        allocations.put(p.address(), new Alloc(bytes, what));
        allocated += bytes;
        ALLOCATED.addAndGet(bytes);
        return new DevPtr(p.address());
    }

    @Override
    public void free(DevPtr p, String what) {
        current("cuMemFree(" + what + ")");
        Alloc a = allocations.remove(p.address());
        if (a == null) throw new Cu.CallException("cuMemFree(" + what + " @" + p + "): CUDA_ERROR_INVALID_VALUE (not an allocation)", null);
        allocated -= a.size();
        ALLOCATED.addAndGet(-a.size());
        try {
            lib.free.invokeExact(MemorySegment.ofAddress(p.address()));
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Bytes this driver holds (allocated, not yet freed). */
    long allocatedBytes() {
        return allocated;
    }

    /** Live allocations, by what they hold. */
    List<String> liveAllocations() {
        return allocations.values().stream().map(a -> a.what() + " (" + a.size() + " bytes)").toList();
    }

    private MemorySegment device(DevPtr p, long bytes, String what) {
        Map.Entry<Long, Alloc> e = allocations.floorEntry(p.address());
        if (e == null || p.address() + bytes > e.getKey() + e.getValue().size() || bytes < 0) {
            throw new Cu.CallException(what + ": CUDA_ERROR_INVALID_VALUE ([" + p + ", +" + bytes + ") is outside every allocation"
                    + (e == null ? "" : "; nearest below: " + e.getValue().what() + " of " + e.getValue().size() + " bytes at 0x"
                    + Long.toHexString(e.getKey())) + ")", null);
        }
        return MemorySegment.ofAddress(p.address()).reinterpret(bytes);
    }

    private void notCapturing(String what) {
        if (recording != null) {
            throw new Cu.CallException(what + ": CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED (the stream is capturing " + capturing
                    + "; the host driver records kernel launches only)", null);
        }
    }

    @Override
    public void copyToDevice(DevPtr dst, MemorySegment src, long bytes, String what) {
        current(what);
        notCapturing(what);
        MemorySegment.copy(src, 0, device(dst, bytes, what), 0, bytes);
    }

    @Override
    public void copyToHost(MemorySegment dst, DevPtr src, long bytes, String what) {
        current(what);
        notCapturing(what);
        MemorySegment.copy(device(src, bytes, what), 0, dst, 0, bytes);
    }

    @Override
    public void memsetD32(DevPtr p, int value, long words, String what) {
        current(what);
        notCapturing(what);
        MemorySegment m = device(p, 4 * words, what);
        if (value == 0) m.fill((byte) 0);
        else for (long i = 0; i < words; i++) m.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i, value);
    }

    @Override
    public void launch(String name, int gx, int gy, int gz, int bx, int by, int bz, KernelArgs.Packed params) {
        current("cuLaunchKernel(" + name + ")");
        Integer k = lib.index.get(name);
        if (k == null) throw new Cu.CallException("cuModuleGetFunction(" + name + "): CUDA_ERROR_NOT_FOUND in the host library", null);
        Node n = new Node(name, k, params.bytes().clone(), params.pointers(), params.offsets(), new int[] {gx, gy, gz, bx, by, bz});
        if (recording != null) {
            checkPointers(n, "capture of " + capturing);  // a GPU would record it; pointers must be valid then too
            recording.add(n);
        } else {
            run(n, "launch");
        }
    }

    private void checkPointers(Node n, String when) {
        ByteBuffer b = ByteBuffer.wrap(n.params()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n.pointers().length; i++) {
            if (!n.pointers()[i]) continue;
            long addr = b.getLong(n.offsets()[i]);
            Map.Entry<Long, Alloc> e = allocations.floorEntry(addr);
            if (e == null || addr > e.getKey() + e.getValue().size()) {
                throw new Cu.CallException("cuLaunchKernel(" + n.kernel() + ", " + when + "): argument " + i + " = 0x"
                        + Long.toHexString(addr) + " points into no live allocation (freed, or never allocated):"
                        + " CUDA_ERROR_ILLEGAL_ADDRESS on a GPU", null);
            }
        }
    }

    private void run(Node n, String when) {
        checkPointers(n, when);
        int[] d = n.dims();
        if (n.params().length > paramBuffer.byteSize()) throw new IllegalStateException(n.kernel() + ": parameter buffer too large");
        MemorySegment.copy(MemorySegment.ofArray(n.params()), 0, paramBuffer, 0, n.params().length);
        int r;
        try {
            r = (int) lib.launch.invokeExact(n.index(), paramBuffer, (long) n.params().length, d[0], d[1], d[2], d[3], d[4], d[5],
                    error, (int) error.byteSize());
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (r != 0) {
            throw new Cu.CallException("cuLaunchKernel(" + n.kernel() + ", grid " + d[0] + "x" + d[1] + "x" + d[2] + ", block " + d[3]
                    + "x" + d[4] + "x" + d[5] + ", " + when + "): " + error.getString(0, StandardCharsets.UTF_8), null);
        }
    }

    @Override
    public void beginCapture(String what) {
        current("cuStreamBeginCapture(" + what + ")");
        if (recording != null) throw new Cu.CallException("cuStreamBeginCapture(" + what + "): CUDA_ERROR_ILLEGAL_STATE (already capturing " + capturing + ")", null);
        recording = new ArrayList<>();
        capturing = what;
    }

    @Override
    public Graph endCapture(String what) {
        current("cuStreamEndCapture(" + what + ")");
        if (recording == null) throw new Cu.CallException("cuStreamEndCapture(" + what + "): CUDA_ERROR_ILLEGAL_STATE (not capturing)", null);
        HostGraph g = new HostGraph(List.copyOf(recording));
        recording = null;
        capturing = null;
        return g;
    }

    @Override
    public void abortCapture() {
        recording = null;
        capturing = null;
    }

    @Override
    public void launchGraph(Graph g, String what) {
        current("cuGraphLaunch(" + what + ")");
        notCapturing("cuGraphLaunch(" + what + ")");
        if (!(g instanceof HostGraph h)) throw new IllegalArgumentException("not a host graph: " + g);
        for (Node n : h.nodes()) run(n, "replay of " + what);
    }

    @Override
    public void destroyGraph(Graph g) {
        current("cuGraphExecDestroy");
    }

    @Override
    public void synchronize(String what) {
        current("cuStreamSynchronize(" + what + ")");
        notCapturing("cuStreamSynchronize(" + what + ")");
    }

    @Override
    public long[] memInfo() {
        long total = physicalMemory();
        return new long[] {Math.max(0, total - ALLOCATED.get()), total};
    }

    private static long physicalMemory() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return 16L << 30;
    }

    @Override
    public void close() {
        if (closed) return;
        // like destroying a context: whatever is still allocated goes with it
        for (Long a : List.copyOf(allocations.keySet())) free(new DevPtr(a), "context teardown");
        closed = true;
        if (CURRENT.get() == this) CURRENT.remove();
        arena.close();
    }
}
