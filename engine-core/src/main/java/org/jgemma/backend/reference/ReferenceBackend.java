package org.jgemma.backend.reference;

import java.util.EnumSet;
import java.util.Set;
import java.util.Collections;
import java.util.IdentityHashMap;
import org.jgemma.backend.Allocation;
import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendUnavailableException;
import org.jgemma.backend.Buffer;
import org.jgemma.backend.IntBuffer;
import org.jgemma.backend.KvBuffer;
import org.jgemma.backend.Op;
import org.jgemma.backend.Weight;
import org.jgemma.ggml.Dequantize;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;

/**
 * The oracle backend (STYLE 4, 9): plain scalar Java, single-threaded, written for clarity, not speed. Every other
 * backend is tested against it. Weights stay views over the GGUF mapping and are dequantized one row at a time with
 * {@link Dequantize}; dot products accumulate in double over float32 activations (so results land near the HF
 * transformers float32 references, not llama.cpp's 8-bit-activation numerics). RMSNorm, RoPE, GELU and softmax follow
 * the ggml CPU arithmetic of FACTS §3.5–3.8 (except GELU, which is f32 here, not ggml's fp16 table). KV cache: float32.
 */
public final class ReferenceBackend implements Backend {
    /** What allocate* handed out and free has not taken back (identity: records with equal contents are distinct). */
    private final Set<Allocation> live = Collections.newSetFromMap(new IdentityHashMap<>());
    private long allocated;

    /** GGML weight types {@link Dequantize} can read. */
    private static final Set<GgmlType> DEQUANTIZABLE = probeDequantizable();

    private float[] rowScratch = new float[0];
    private float[] cosScratch = new float[0], sinScratch = new float[0], scoreScratch = new float[0]; // grown, reused
    private double[] accScratch = new double[0];
    private boolean closed;

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public String deviceName() {
        return "scalar Java reference (single thread, " + System.getProperty("os.arch") + ")";
    }

    @Override
    public boolean supportsOp(Op op, GgmlType type) {
        return switch (op) {
            case EMBED, MATMUL, RMS_NORM -> type != null && DEQUANTIZABLE.contains(type);
            default -> true;
        };
    }

    /** The weight types this backend reads. */
    public static Set<GgmlType> supportedWeightTypes() {
        return Set.copyOf(DEQUANTIZABLE);
    }

    @Override
    public long freeMemoryBytes() {
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    }

    // ---- memory -------------------------------------------------------------------------------------------

    /**
     * The weights stay in the file mapping; one session's float32 KV cache and the activations are Java arrays: refused,
     * with the numbers and what to try, when they exceed the heap the JVM may ever have (as the CPU backend does).
     */
    @Override
    public void checkFits(long weightBytes, long kvElements, long scratchBytes) {
        long kv = Math.multiplyExact(4L, kvElements), need = Math.addExact(kv, scratchBytes), max = Runtime.getRuntime().maxMemory();
        if (need > max) {
            throw new BackendUnavailableException(String.format(java.util.Locale.ROOT, "reference: one session needs %.1f MiB"
                            + " of Java heap (KV cache %.1f MiB, activations %.1f MiB), more than the JVM's maximum heap of %.1f MiB;"
                            + " try a smaller context (--ctx-size, ModelOptions.withContextSize) or more heap (JAVA_OPTS=-Xmx...)",
                    need / 1048576.0, kv / 1048576.0, scratchBytes / 1048576.0, max / 1048576.0));
        }
    }

    @Override
    public Weight upload(GgufTensorInfo tensor) {
        checkOpen();
        if (!DEQUANTIZABLE.contains(tensor.type())) {
            throw new UnsupportedOperationException("reference backend cannot read tensor '" + tensor.name() + "' of type "
                    + tensor.type() + " (readable: " + DEQUANTIZABLE + ")");
        }
        return new RefWeight(tensor);
    }

    @Override
    public Buffer allocate(long n, String name) {
        checkOpen();
        if (n < 0 || n > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("buffer '" + name + "': bad size " + n);
        return track(new RefBuffer(new float[(int) n], name));
    }

    @Override
    public IntBuffer allocateInts(int n, String name) {
        checkOpen();
        if (n < 0) throw new IllegalArgumentException("int buffer '" + name + "': bad size " + n);
        return track(new RefInts(new int[n], name));
    }

    @Override
    public KvBuffer allocateKv(int slots, int kvDim, String name) {
        checkOpen();
        long n = (long) slots * kvDim;
        if (slots <= 0 || kvDim <= 0 || n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("kv cache '" + name + "': bad size " + slots + " x " + kvDim);
        }
        try {
            return track(new RefKv(new float[(int) n], new float[(int) n], slots, kvDim, name));
        } catch (OutOfMemoryError e) { // a failed array allocation took nothing: say what did not fit
            Runtime rt = Runtime.getRuntime();
            throw new BackendUnavailableException(String.format(java.util.Locale.ROOT, "reference: the KV cache does not fit"
                            + " the Java heap: %s (%d x %d x 2 floats, %.1f MiB) could not be allocated with %.1f MiB of the JVM's"
                            + " maximum heap of %.1f MiB in use; try a smaller context or more heap (JAVA_OPTS=-Xmx...)", name,
                    slots, kvDim, 8.0 * n / 1048576.0, (rt.totalMemory() - rt.freeMemory()) / 1048576.0, rt.maxMemory() / 1048576.0));
        }
    }

    private <A extends Allocation> A track(A a) {
        live.add(a);
        allocated += a.bytes();
        return a;
    }

    @Override
    public void free(Allocation a) {
        if (live.remove(a)) allocated -= a.bytes();
    }

    @Override
    public long allocatedBytes() {
        return allocated;
    }

    @Override
    public void write(Buffer dst, long dstOff, float[] src, int srcOff, int n) {
        System.arraycopy(src, srcOff, f(dst), Math.toIntExact(dstOff), n);
    }

    @Override
    public void writeInts(IntBuffer dst, int[] src, int n) {
        System.arraycopy(src, 0, ((RefInts) dst).data, 0, n);
    }

    @Override
    public void read(Buffer src, long srcOff, float[] dst, int dstOff, int n) {
        System.arraycopy(f(src), Math.toIntExact(srcOff), dst, dstOff, n);
    }

    @Override
    public void readInts(IntBuffer src, int[] dst, int n) {
        System.arraycopy(((RefInts) src).data, 0, dst, 0, n);
    }

    // ---- ops ----------------------------------------------------------------------------------------------

    @Override
    public void embed(Weight table, IntBuffer tokens, int n, float scale, Buffer out) {
        RefWeight w = (RefWeight) table;
        int cols = (int) w.cols();
        int[] ids = ((RefInts) tokens).data;
        float[] o = f(out);
        if (o.length < (long) n * cols) fail("embed: out '" + out.name() + "' too small");
        for (int t = 0; t < n; t++) {
            int id = ids[t];
            if (id < 0 || id >= w.rows()) {
                throw new IndexOutOfBoundsException("embed: token id " + id + " outside [0, " + w.rows() + ") of '" + w.name() + "'");
            }
            w.dequantizeRow(id, o, t * cols);
            for (int i = 0; i < cols; i++) o[t * cols + i] *= scale;
        }
    }

    @Override
    public void rmsNorm(Buffer x, Weight weight, int rows, int dim, float eps, Buffer out) {
        float[] w = weightVector((RefWeight) weight, dim);
        float[] xs = f(x), o = f(out);
        for (int r = 0; r < rows; r++) {
            int base = r * dim;
            double sum = 0.0; // ggml: float squares, double sum
            for (int i = 0; i < dim; i++) {
                float v = xs[base + i];
                sum += (double) (v * v);
            }
            float mean = (float) (sum / dim);
            float scale = 1.0f / (float) Math.sqrt(mean + eps);
            for (int i = 0; i < dim; i++) o[base + i] = (xs[base + i] * scale) * w[i];
        }
    }

    @Override
    public void matmul(Weight weight, Buffer x, int n, Buffer out) {
        RefWeight w = (RefWeight) weight;
        int cols = (int) w.cols();
        int rows = (int) w.rows();
        float[] xs = f(x), o = f(out);
        if (xs.length < (long) n * cols) fail("matmul " + w.name() + ": input '" + x.name() + "' holds " + xs.length + " < " + n + "x" + cols);
        if (o.length < (long) n * rows) fail("matmul " + w.name() + ": output '" + out.name() + "' holds " + o.length + " < " + n + "x" + rows);
        float[] row = scratch(cols);
        for (int r = 0; r < rows; r++) {
            w.dequantizeRow(r, row, 0);
            for (int t = 0; t < n; t++) {
                double acc = 0.0;
                int xb = t * cols;
                for (int k = 0; k < cols; k++) acc += (double) row[k] * xs[xb + k];
                o[t * rows + r] = (float) acc;
            }
        }
    }

    @Override
    public void rope(Buffer x, int n, int nHeads, int headDim, IntBuffer positions, float base, float freqScale) {
        float[] xs = f(x);
        int[] pos = ((RefInts) positions).data;
        int half = headDim / 2;
        if (cosScratch.length < half) {
            cosScratch = new float[half];
            sinScratch = new float[half];
        }
        float[] cos = cosScratch, sin = sinScratch;
        // ggml_rope_cache_init: theta_scale = powf(base, -2/n_dims); theta starts at p and is multiplied once per pair.
        float thetaScale = (float) Math.pow(base, -2.0f / headDim);
        for (int t = 0; t < n; t++) {
            float theta = (float) pos[t];
            for (int i = 0; i < half; i++) {
                float angle = freqScale * theta; // rope_yarn with ext_factor 0, mscale 1
                cos[i] = (float) Math.cos(angle);
                sin[i] = (float) Math.sin(angle);
                theta *= thetaScale;
            }
            for (int h = 0; h < nHeads; h++) {
                int b = (t * nHeads + h) * headDim;
                for (int i = 0; i < half; i++) { // NeoX: pairs (i, i + n_dims/2)
                    float x0 = xs[b + i], x1 = xs[b + i + half];
                    xs[b + i] = x0 * cos[i] - x1 * sin[i];
                    xs[b + i + half] = x0 * sin[i] + x1 * cos[i];
                }
            }
        }
    }

    @Override
    public void kvAppend(Buffer k, Buffer v, int n, IntBuffer positions, KvBuffer cache) {
        RefKv c = (RefKv) cache;
        int[] pos = ((RefInts) positions).data;
        float[] ks = f(k), vs = f(v);
        int d = c.kvDim;
        for (int t = 0; t < n; t++) {
            int slot = pos[t] % c.slots;
            System.arraycopy(ks, t * d, c.k, slot * d, d);
            System.arraycopy(vs, t * d, c.v, slot * d, d);
        }
    }

    @Override
    public void attention(Buffer q, KvBuffer cache, int n, IntBuffer positions, int nHead, int nKvHead, int headDim,
                          int window, float scale, Buffer out) {
        attentionNonCausal(q, cache, n, positions, nHead, nKvHead, headDim, window, scale, -1, out);
    }

    @Override
    public void attentionNonCausal(Buffer q, KvBuffer cache, int n, IntBuffer positions, int nHead, int nKvHead, int headDim,
                                   int window, float scale, int horizon, Buffer out) {
        RefKv c = (RefKv) cache;
        if (nHead % nKvHead != 0) fail("attention: nHead " + nHead + " not a multiple of nKvHead " + nKvHead);
        if (c.kvDim != nKvHead * headDim) fail("attention: cache '" + c.name + "' kvDim " + c.kvDim + " != " + nKvHead + "x" + headDim);
        float[] qs = f(q), o = f(out);
        int[] pos = ((RefInts) positions).data;
        int group = nHead / nKvHead;
        if (accScratch.length < headDim) accScratch = new double[headDim];
        double[] acc = accScratch;
        for (int t = 0; t < n; t++) {
            int p = pos[t];
            int first = window > 0 ? Math.max(0, p - window + 1) : 0; // the window is measured from the query's own position
            int count = Math.max(p, horizon) - first + 1;
            if (count > c.slots) fail("attention: " + count + " visible keys at position " + p + " but cache '" + c.name
                    + "' has only " + c.slots + " slots");
            if (scoreScratch.length < count) scoreScratch = new float[Math.max(count, 2 * scoreScratch.length)];
            float[] scores = scoreScratch;
            for (int h = 0; h < nHead; h++) {
                int qb = (t * nHead + h) * headDim;
                int kvOff = (h / group) * headDim;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < count; j++) {
                    int kb = ((first + j) % c.slots) * c.kvDim + kvOff;
                    double dot = 0.0;
                    for (int i = 0; i < headDim; i++) dot += (double) qs[qb + i] * c.k[kb + i];
                    scores[j] = scale * (float) dot;
                    max = Math.max(max, scores[j]);
                }
                double sum = 0.0; // ggml_soft_max: float exp, double sum
                for (int j = 0; j < count; j++) {
                    scores[j] = (float) Math.exp(scores[j] - max);
                    sum += scores[j];
                }
                float inv = (float) (1.0 / sum);
                java.util.Arrays.fill(acc, 0.0);
                for (int j = 0; j < count; j++) {
                    float pj = scores[j] * inv;
                    int vb = ((first + j) % c.slots) * c.kvDim + kvOff;
                    for (int i = 0; i < headDim; i++) acc[i] += (double) pj * c.v[vb + i];
                }
                for (int i = 0; i < headDim; i++) o[qb + i] = (float) acc[i];
            }
        }
    }

    /** ggml_gelu_f32 (tanh approximation) in float32. */
    static float gelu(float x) {
        final float sqrt2OverPi = 0.79788456080286535587989211986876f;
        final float coefA = 0.044715f;
        return 0.5f * x * (1.0f + (float) Math.tanh(sqrt2OverPi * x * (1.0f + coefA * x * x)));
    }

    @Override
    public void geglu(Buffer gate, Buffer up, long n, Buffer out) {
        float[] g = f(gate), u = f(up), o = f(out);
        for (int i = 0; i < n; i++) o[i] = gelu(g[i]) * u[i];
    }

    @Override
    public void add(Buffer acc, Buffer x, long n) {
        float[] a = f(acc), b = f(x);
        for (int i = 0; i < n; i++) a[i] += b[i];
    }

    @Override
    public void softcap(Buffer x, long n, float cap) {
        float[] a = f(x);
        for (int i = 0; i < n; i++) a[i] = cap * (float) Math.tanh(a[i] / cap);
    }

    @Override
    public void copy(Buffer src, long srcOff, Buffer dst, long dstOff, long n) {
        System.arraycopy(f(src), Math.toIntExact(srcOff), f(dst), Math.toIntExact(dstOff), Math.toIntExact(n));
    }

    @Override
    public void argmax(Buffer x, int rows, int dim, IntBuffer out) {
        float[] a = f(x);
        int[] o = ((RefInts) out).data;
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int j = 1; j < dim; j++) if (a[r * dim + j] > a[r * dim + best]) best = j;
            o[r] = best;
        }
    }

    @Override
    public void close() {
        closed = true;
        live.clear();
        allocated = 0;
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private void checkOpen() {
        if (closed) throw new IllegalStateException("reference backend is closed");
    }

    private static void fail(String message) {
        throw new IllegalArgumentException(message);
    }

    private static float[] f(Buffer b) {
        return ((RefBuffer) b).data;
    }

    private float[] scratch(int n) {
        if (rowScratch.length < n) rowScratch = new float[n];
        return rowScratch;
    }

    private static float[] weightVector(RefWeight w, int dim) {
        if (w.cols() != dim || w.rows() != 1) {
            throw new IllegalArgumentException("norm weight '" + w.name() + "': expected [" + dim + "], found [" + w.cols() + ", " + w.rows() + "]");
        }
        if (w.vector == null) {
            float[] v = new float[dim];
            w.dequantizeRow(0, v, 0);
            w.vector = v;
        }
        return w.vector;
    }

    private static Set<GgmlType> probeDequantizable() {
        Set<GgmlType> s = EnumSet.noneOf(GgmlType.class);
        for (GgmlType t : GgmlType.values()) if (t.supported && Dequantize.canDequantize(t)) s.add(t);
        return s;
    }

    /** A weight: a view over the mapped GGUF tensor (no copy). */
    static final class RefWeight implements Weight {
        final GgufTensorInfo tensor;
        final long rowBytes;
        float[] vector; // dequantized once for 1-D norm weights

        RefWeight(GgufTensorInfo tensor) {
            this.tensor = tensor;
            this.rowBytes = tensor.rowBytes();
        }

        void dequantizeRow(long r, float[] dst, int off) {
            Dequantize.dequantizeRow(tensor.type(), tensor.data(), r * rowBytes, dst, off, (int) tensor.rowLength());
        }

        @Override public String name() { return tensor.name(); }
        @Override public GgmlType type() { return tensor.type(); }
        @Override public long cols() { return tensor.rowLength(); }
        @Override public long rows() { return tensor.rowCount(); }
        @Override public String toString() { return tensor.toString(); }
    }

    record RefBuffer(float[] data, String name) implements Buffer {
        @Override public long size() { return data.length; }
        @Override public String toString() { return "Buffer[" + name + ", " + data.length + "]"; }
    }

    record RefInts(int[] data, String name) implements IntBuffer {
        @Override public int size() { return data.length; }
        @Override public String toString() { return "IntBuffer[" + name + ", " + data.length + "]"; }
    }

    record RefKv(float[] k, float[] v, int slots, int kvDim, String name) implements KvBuffer {
        @Override public String toString() { return "KvBuffer[" + name + ", " + slots + "x" + kvDim + "]"; }
    }
}
