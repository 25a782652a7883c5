package org.jgemma.cpu;

import java.lang.foreign.MemorySegment;

import org.jgemma.backend.Allocation;
import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendUnavailableException;
import org.jgemma.backend.Buffer;
import org.jgemma.backend.IntBuffer;
import org.jgemma.backend.KvBuffer;
import org.jgemma.backend.Op;
import org.jgemma.backend.Weight;
import org.jgemma.cpu.CpuMemory.CpuBuffer;
import org.jgemma.cpu.CpuMemory.CpuIntBuffer;
import org.jgemma.cpu.CpuMemory.CpuKv;
import org.jgemma.cpu.CpuMemory.CpuWeight;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;

/**
 * The Java Vector API backend: weights are read in place from the GGUF mapping, activations live in heap float
 * arrays, the KV cache is float32. Matmuls run on a persistent {@link WorkerPool} ({@link Matmul}); attention is split
 * over (token, head) pairs; the cheap element-wise ops run on the calling thread. Numerics follow llama.cpp's CPU
 * backend (FACTS §2.3, §3.5-3.8): 8-bit activations in quantized mat-vec, double RMSNorm sums, iterative RoPE
 * angles, the fp16 GELU table; the KV cache stays float32 (between llama.cpp's F16 cache and transformers' f32).
 */
public final class CpuBackend implements Backend {
    private final WorkerPool pool;
    private final Matmul matmul;
    private final AttentionTask attention;
    private final ParallelOps parallelOps;
    private int maxCols = 256;
    /** What allocate* handed out and free has not taken back. */
    private final java.util.Set<Allocation> live = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    private long allocated;
    private final SelfAttention selfAttention;
    /** The repacked weights ({@link NativeKernels#pack}), freed by {@link #close}. */
    private final java.lang.foreign.Arena packArena = java.lang.foreign.Arena.ofShared();

    public CpuBackend(int threads) {
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        pool = new WorkerPool(n);
        matmul = new Matmul(pool, 8192);
        attention = new AttentionTask(pool);
        selfAttention = new SelfAttention(pool);
        parallelOps = new ParallelOps(pool);
    }

    @Override public String name() { return "cpu"; }

    @Override
    public String deviceName() {
        return "CPU, " + pool.size() + " threads, Vector API " + jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit, "
                + (Matmul.NATIVE ? NativeKernels.shortName() : "Vector API int8 kernels");
    }

    @Override
    public boolean supportsOp(Op op, GgmlType type) {
        if (op == Op.MATMUL || op == Op.EMBED) return type != null && isReadable(type);
        if (op == Op.RMS_NORM) return type == null || type == GgmlType.F32;
        return true;
    }

    static boolean isReadable(GgmlType t) {
        return switch (t) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    @Override
    public long freeMemoryBytes() {
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    }

    // ---- memory -------------------------------------------------------------------------------------------

    /**
     * The weights stay in the file mapping (off the heap); one session's float32 KV cache and the activations live on
     * the Java heap. Refuses, with the numbers and what to try, when they exceed what the heap can ever hold; what
     * is free right now also counts garbage as used, so a later shortfall is caught when the cache is allocated.
     */
    @Override
    public void checkFits(long weightBytes, long kvElements, long scratchBytes) {
        long need = Math.addExact(Math.multiplyExact(4L, kvElements), scratchBytes);
        long max = Runtime.getRuntime().maxMemory();
        if (need > max) throw new BackendUnavailableException(heapShortfall("one session", 4L * kvElements, scratchBytes, max));
    }

    static String heapShortfall(String what, long kvBytes, long scratchBytes, long heap) {
        return String.format(java.util.Locale.ROOT, "cpu: %s needs %.1f MiB of Java heap (KV cache %.1f MiB, activations %.1f MiB),"
                        + " more than the JVM's %s %.1f MiB; try a smaller context (--ctx-size, ModelOptions.withContextSize),"
                        + " fewer parallel sessions, or more heap (JAVA_OPTS=-Xmx...)", what, (kvBytes + scratchBytes) / 1048576.0,
                kvBytes / 1048576.0, scratchBytes / 1048576.0, heap == Runtime.getRuntime().maxMemory() ? "maximum heap of" : "free heap of",
                heap / 1048576.0);
    }

    /**
     * Why a KV cache allocation failed although {@link #checkFits} passed (that check sees one session against the
     * whole heap, not what the application and other sessions already hold): the layer, the heap in use and in all,
     * what this backend holds, and what to try.
     */
    static String kvShortfall(String name, int slots, int kvDim, long backendBytes) {
        Runtime rt = Runtime.getRuntime();
        return String.format(java.util.Locale.ROOT, "cpu: the KV cache does not fit the Java heap: %s (%d x %d x 2 floats,"
                        + " %.1f MiB) could not be allocated with %.1f MiB of the JVM's maximum heap of %.1f MiB in use"
                        + " (%.1f MiB of it this backend's caches and activations); try a smaller context (--ctx-size,"
                        + " ModelOptions.withContextSize), fewer parallel sessions, or more heap (JAVA_OPTS=-Xmx...)",
                name, slots, kvDim, 8.0 * slots * kvDim / 1048576.0, (rt.totalMemory() - rt.freeMemory()) / 1048576.0,
                rt.maxMemory() / 1048576.0, backendBytes / 1048576.0);
    }

    @Override
    public Weight upload(GgufTensorInfo t) {
        if (!isReadable(t.type())) {
            throw new UnsupportedOperationException("CPU backend cannot read tensor " + t.name() + " of type " + t.type());
        }
        long cols = t.rowLength(), rows = t.rowCount();
        if (cols > Integer.MAX_VALUE / 4) throw new IllegalArgumentException("tensor " + t.name() + ": row of " + cols + " elements is too long");
        if (cols > maxCols) {
            maxCols = (int) cols;
            matmul.ensureCols(maxCols);
        }
        MemorySegment packed = null;
        if (NativeKernels.packs(t.type(), cols, rows) && t.data().isMapped()) {
            // a copy in groups of 8 rows for the native kernels (as llama.cpp's CPU_REPACK buffer); the mapped pages it
            // was read from are dropped (they come back from the file if an embedding lookup reads them). A weight read
            // into memory (--no-mmap) keeps its one copy: repacking it would double its memory.
            long bytes = NativeKernels.packedBytes(t.type(), cols, rows);
            packed = NativeKernels.allocateUninitialized(bytes, packArena);
            if (packed == null) {
                throw new BackendUnavailableException(String.format(java.util.Locale.ROOT,
                        "cpu: no memory for the repacked copy of %s (%.1f MiB); -Djgemma.cpu.repack=false reads it in place", t.name(),
                        bytes / 1048576.0));
            }
            // the groups of 8 rows split between the workers (the copy is as much page faults as arithmetic)
            MemorySegment src = t.data(), dst = packed;
            GgmlType type = t.type();
            int k = (int) cols;
            long groups = rows / 8;
            pool.run((w, nw) -> {
                long g0 = groups * w / nw, g1 = groups * (w + 1) / nw;
                if (g0 < g1) {
                    NativeKernels.pack(type, src.asSlice(8 * g0 * t.rowBytes(), 8 * (g1 - g0) * t.rowBytes()),
                            dst.asSlice(NativeKernels.packedBytes(type, k, 8 * g0), NativeKernels.packedBytes(type, k, 8 * (g1 - g0))), k, 8 * (g1 - g0));
                }
            });
            t.data().unload();
        }
        return new CpuWeight(t.name(), t.type(), cols, rows, t.data(), t.rowBytes(), packed);
    }

    @Override
    public Buffer allocate(long n, String name) {
        if (n < 0) throw new IllegalArgumentException("buffer " + name + ": negative size " + n);
        return track(new CpuBuffer(n, name));
    }

    @Override
    public IntBuffer allocateInts(int n, String name) {
        if (n < 0) throw new IllegalArgumentException("int buffer " + name + ": negative size " + n);
        return track(new CpuIntBuffer(n, name));
    }

    @Override
    public KvBuffer allocateKv(int slots, int kvDim, String name) {
        if (slots <= 0 || kvDim <= 0) throw new IllegalArgumentException("KV cache " + name + ": bad size " + slots + " x " + kvDim);
        try {
            CpuKv kv = new CpuKv(slots, kvDim, name); // first: a cache refused for its size grows no attention scratch
            attention.ensureSlots(slots);
            return track(kv);
        } catch (OutOfMemoryError e) { // a failed array allocation took nothing: report it as what it is
            throw new BackendUnavailableException(kvShortfall(name, slots, kvDim, allocated));
        }
    }

    private <A extends Allocation> A track(A a) {
        live.add(a);
        allocated += a.bytes();
        return a;
    }

    /** Heap arrays: forgetting them is freeing them (the GC reclaims them once the caller drops its references too). */
    @Override
    public void free(Allocation a) {
        if (live.remove(a)) {
            allocated -= a.bytes();
            matmul.invalidate(); // a later buffer may reuse nothing, but the activation cache must not name a freed one
        }
    }

    @Override
    public long allocatedBytes() {
        return allocated;
    }

    @Override
    public void write(Buffer dst, long dstOff, float[] src, int srcOff, int n) {
        CpuBuffer b = buf(dst);
        System.arraycopy(src, srcOff, b.data, Math.toIntExact(dstOff), n);
        b.touch();
    }

    @Override
    public void writeInts(IntBuffer dst, int[] src, int n) {
        System.arraycopy(src, 0, ((CpuIntBuffer) dst).data, 0, n);
    }

    @Override
    public void read(Buffer src, long srcOff, float[] dst, int dstOff, int n) {
        System.arraycopy(buf(src).data, Math.toIntExact(srcOff), dst, dstOff, n);
    }

    @Override
    public void readInts(IntBuffer src, int[] dst, int n) {
        System.arraycopy(((CpuIntBuffer) src).data, 0, dst, 0, n);
    }

    // ---- ops ----------------------------------------------------------------------------------------------

    @Override
    public void embed(Weight table, IntBuffer tokens, int n, float scale, Buffer out) {
        CpuWeight w = (CpuWeight) table;
        int[] ids = ((CpuIntBuffer) tokens).data;
        CpuBuffer o = buf(out);
        int cols = (int) w.cols();
        for (int t = 0; t < n; t++) {
            int id = ids[t];
            if (id < 0 || id >= w.rows()) throw new IndexOutOfBoundsException("embed " + w.name() + ": token id " + id + " at " + t + " outside [0, " + w.rows() + ")");
            DequantRows.row(w.type(), w.data(), w.rowBytes() * id, cols, o.data, t * cols);
            for (int i = t * cols; i < (t + 1) * cols; i++) o.data[i] *= scale;
        }
        o.touch();
    }

    @Override
    public void rmsNorm(Buffer x, Weight weight, int rows, int dim, float eps, Buffer out) {
        CpuWeight w = (CpuWeight) weight;
        if (w.type() != GgmlType.F32 || w.cols() * w.rows() != dim) {
            throw new IllegalArgumentException("rmsNorm weight " + w.name() + " must be F32 [" + dim + "], is " + w.type() + " [" + w.cols() + "x" + w.rows() + "]");
        }
        float[] xd = buf(x).data, od = buf(out).data;
        MemorySegment ws = w.data();
        for (int r = 0; r < rows; r++) CpuOps.rmsNormRow(xd, r * dim, ws, dim, eps, od, r * dim);
        buf(out).touch();
    }

    @Override
    public void matmul(Weight w, Buffer x, int n, Buffer out) {
        CpuWeight cw = (CpuWeight) w;
        CpuBuffer xb = buf(x), ob = buf(out);
        if ((long) n * cw.cols() > xb.data.length || (long) n * cw.rows() > ob.data.length) {
            throw new IllegalArgumentException("matmul " + cw.name() + " [" + cw.rows() + "x" + cw.cols() + "] with " + n + " tokens: x "
                    + xb.name + " [" + xb.data.length + "] or out " + ob.name + " [" + ob.data.length + "] too small");
        }
        if (xb == ob) throw new IllegalArgumentException("matmul " + cw.name() + ": out must differ from x");
        matmul.run(cw, xb.data, xb.version, n, ob.data);
        ob.touch();
    }

    /** Decode (n < Matmul.TILE_MIN_TOKENS) on quantized weights: one parallel region over the rows of both; otherwise two matmuls. */
    @Override
    public void matmul2(Weight w1, Weight w2, Buffer x, int n, Buffer out1, Buffer out2) {
        CpuWeight a = (CpuWeight) w1, b = (CpuWeight) w2;
        if (!Matmul.decodePath(a, n) || !Matmul.decodePath(b, n) || a.cols() != b.cols()) {
            matmul(w1, x, n, out1);
            matmul(w2, x, n, out2);
            return;
        }
        CpuBuffer xb = buf(x), o1 = checkedOut(a, xb, n, out1), o2 = checkedOut(b, xb, n, out2);
        if (o1 == o2) throw new IllegalArgumentException("matmul2 " + a.name() + ", " + b.name() + ": outputs must differ");
        matmul.runFused(a, b, null, xb.data, xb.version, n, o1.data, o2.data, null);
        o1.touch();
        o2.touch();
    }

    /** Decode (n < Matmul.TILE_MIN_TOKENS) on quantized weights: one parallel region over the rows of all three; otherwise three matmuls. */
    @Override
    public void matmul3(Weight w1, Weight w2, Weight w3, Buffer x, int n, Buffer out1, Buffer out2, Buffer out3) {
        CpuWeight a = (CpuWeight) w1, b = (CpuWeight) w2, c = (CpuWeight) w3;
        if (!Matmul.decodePath(a, n) || !Matmul.decodePath(b, n) || !Matmul.decodePath(c, n) || a.cols() != b.cols() || a.cols() != c.cols()) {
            matmul(w1, x, n, out1);
            matmul(w2, x, n, out2);
            matmul(w3, x, n, out3);
            return;
        }
        CpuBuffer xb = buf(x), o1 = checkedOut(a, xb, n, out1), o2 = checkedOut(b, xb, n, out2), o3 = checkedOut(c, xb, n, out3);
        if (o1 == o2 || o1 == o3 || o2 == o3) {
            throw new IllegalArgumentException("matmul3 " + a.name() + ", " + b.name() + ", " + c.name() + ": outputs must differ");
        }
        matmul.runFused(a, b, c, xb.data, xb.version, n, o1.data, o2.data, o3.data);
        o1.touch();
        o2.touch();
        o3.touch();
    }

    /** The CPU buffer of {@code out}, checked to hold n rows of w's output and to differ from x. */
    private static CpuBuffer checkedOut(CpuWeight w, CpuBuffer xb, int n, Buffer out) {
        CpuBuffer ob = buf(out);
        if ((long) n * w.cols() > xb.data.length || (long) n * w.rows() > ob.data.length) {
            throw new IllegalArgumentException("matmul " + w.name() + " [" + w.rows() + "x" + w.cols() + "] with " + n + " tokens: x "
                    + xb.name + " [" + xb.data.length + "] or out " + ob.name + " [" + ob.data.length + "] too small");
        }
        if (xb == ob) throw new IllegalArgumentException("matmul " + w.name() + ": out must differ from x");
        return ob;
    }

    @Override
    public void rope(Buffer x, int n, int nHeads, int headDim, IntBuffer positions, float base, float freqScale) {
        float[] d = buf(x).data;
        int[] pos = ((CpuIntBuffer) positions).data;
        int half = headDim / 2;
        RopeTable table = ropeTable(pos, n, half, headDim, base, freqScale);
        float[] cos = table.cos, sin = table.sin;
        for (int t = 0; t < n; t++) {
            int c0 = t * half;
            for (int h = 0; h < nHeads; h++) {
                int o = (t * nHeads + h) * headDim;
                for (int i = 0; i < half; i++) {
                    float x0 = d[o + i], x1 = d[o + i + half];
                    d[o + i] = x0 * cos[c0 + i] - x1 * sin[c0 + i];
                    d[o + i + half] = x0 * sin[c0 + i] + x1 * cos[c0 + i];
                }
            }
        }
        buf(x).touch();
    }

    /**
     * The cos/sin of the last positions rotated with each (base, scale, dims): a layer's Q and K and every layer of the
     * same kind (gemma3 alternates a local and a global base) rotate the same positions, and Math.cos/sin of a prompt's
     * 128 positions x 128 pairs cost ~45 ms per prompt on the 270M model before (JFR: 5% of its pp128 samples).
     */
    private static final class RopeTable {
        float base, freqScale;
        int half, headDim, n = -1;
        int[] pos = new int[0];
        float[] cos = new float[0], sin = new float[0];
    }

    private final RopeTable[] ropeTables = {new RopeTable(), new RopeTable()};
    private int ropeNext;

    private RopeTable ropeTable(int[] pos, int n, int half, int headDim, float base, float freqScale) {
        for (RopeTable rt : ropeTables) {
            if (rt.n == n && rt.half == half && rt.headDim == headDim && rt.base == base && rt.freqScale == freqScale
                    && java.util.Arrays.equals(rt.pos, 0, n, pos, 0, n)) {
                return rt;
            }
        }
        RopeTable rt = ropeTables[ropeNext];
        ropeNext = (ropeNext + 1) % ropeTables.length;
        if (rt.pos.length < n) rt.pos = new int[n];
        if (rt.cos.length < n * half) {
            rt.cos = new float[n * half];
            rt.sin = new float[n * half];
        }
        float thetaScale = (float) Math.pow(base, -2.0f / headDim);
        for (int t = 0; t < n; t++) {
            float theta = pos[t]; // ggml_rope_cache_init: theta *= theta_scale per pair, in float
            for (int i = 0; i < half; i++) {
                float angle = freqScale * theta;
                rt.cos[t * half + i] = (float) Math.cos(angle);
                rt.sin[t * half + i] = (float) Math.sin(angle);
                theta *= thetaScale;
            }
        }
        System.arraycopy(pos, 0, rt.pos, 0, n);
        rt.n = n;
        rt.half = half;
        rt.headDim = headDim;
        rt.base = base;
        rt.freqScale = freqScale;
        return rt;
    }

    @Override
    public void kvAppend(Buffer k, Buffer v, int n, IntBuffer positions, KvBuffer cache) {
        CpuKv c = (CpuKv) cache;
        int[] pos = ((CpuIntBuffer) positions).data;
        float[] kd = buf(k).data, vd = buf(v).data;
        for (int t = 0; t < n; t++) {
            int slot = Math.floorMod(pos[t], c.slots);
            System.arraycopy(kd, t * c.kvDim, c.k, slot * c.kvDim, c.kvDim);
            System.arraycopy(vd, t * c.kvDim, c.v, slot * c.kvDim, c.kvDim);
        }
    }

    @Override
    public void attention(Buffer q, KvBuffer cache, int n, IntBuffer positions, int nHead, int nKvHead, int headDim, int window, float scale, Buffer out) {
        attentionNonCausal(q, cache, n, positions, nHead, nKvHead, headDim, window, scale, -1, out);
    }

    @Override
    public void attentionNonCausal(Buffer q, KvBuffer cache, int n, IntBuffer positions, int nHead, int nKvHead, int headDim,
                                   int window, float scale, int horizon, Buffer out) {
        CpuKv c = (CpuKv) cache;
        if (nKvHead * headDim != c.kvDim) {
            throw new IllegalArgumentException("attention: " + nKvHead + " KV heads x " + headDim + " != cache " + c.name + " kvDim " + c.kvDim);
        }
        attention.run(buf(q).data, c, n, ((CpuIntBuffer) positions).data, nHead, nKvHead, headDim, window, scale, horizon, buf(out).data);
        buf(out).touch();
    }

    @Override
    public void selfAttention(Buffer q, Buffer k, Buffer v, int n, int nHead, int headDim, float scale, Buffer out) {
        org.jgemma.backend.SelfAttentionReference.check(n, nHead, headDim, q.size(), k.size(), v.size(), out.size());
        CpuBuffer o = buf(out);
        if (o == buf(q) || o == buf(k) || o == buf(v)) throw new IllegalArgumentException("selfAttention: out " + o.name + " must differ from q, k and v");
        selfAttention.run(buf(q).data, buf(k).data, buf(v).data, n, nHead, headDim, scale, o.data);
        o.touch();
    }

    @Override
    public void geglu(Buffer gate, Buffer up, long n, Buffer out) {
        parallelOps.geglu(buf(gate).data, buf(up).data, buf(out).data, Math.toIntExact(n));
        buf(out).touch();
    }

    @Override
    public void add(Buffer acc, Buffer x, long n) {
        CpuOps.add(buf(acc).data, buf(x).data, 0, Math.toIntExact(n));
        buf(acc).touch();
    }

    @Override
    public void softcap(Buffer x, long n, float cap) {
        float[] d = buf(x).data;
        for (int i = 0; i < n; i++) d[i] = cap * (float) Math.tanh(d[i] / cap);
        buf(x).touch();
    }

    @Override
    public void copy(Buffer src, long srcOff, Buffer dst, long dstOff, long n) {
        System.arraycopy(buf(src).data, Math.toIntExact(srcOff), buf(dst).data, Math.toIntExact(dstOff), Math.toIntExact(n));
        buf(dst).touch();
    }

    @Override
    public void argmax(Buffer x, int rows, int dim, IntBuffer out) {
        float[] d = buf(x).data;
        int[] o = ((CpuIntBuffer) out).data;
        for (int r = 0; r < rows; r++) {
            int best = 0;
            float bv = d[r * dim];
            for (int j = 1; j < dim; j++) {
                if (d[r * dim + j] > bv) {
                    bv = d[r * dim + j];
                    best = j;
                }
            }
            o[r] = best;
        }
    }

    @Override
    public void close() {
        live.clear();
        allocated = 0;
        pool.close();
        if (packArena.scope().isAlive()) packArena.close(); // a second close() is a no-op
    }

    private static CpuBuffer buf(Buffer b) {
        if (b instanceof CpuBuffer c) return c;
        throw new IllegalArgumentException("buffer " + b.name() + " does not belong to the CPU backend");
    }
}
