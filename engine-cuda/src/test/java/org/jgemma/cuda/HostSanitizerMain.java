package org.jgemma.cuda;

import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendConformanceTest;
import org.jgemma.backend.Buffer;
import org.jgemma.backend.IntBuffer;
import org.jgemma.backend.KvBuffer;
import org.jgemma.backend.TestWeights;
import org.jgemma.backend.Weight;
import org.jgemma.backend.reference.ReferenceBackend;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.model.Gemma3Model;

/**
 * Runs in a JVM started by {@link HostSanitizerTest} with libasan preloaded and the AddressSanitizer/UBSan build of
 * the kernels: {@code ops} launches every kernel (each weight type's mat-vec widths, tiled mat-mat and get_rows, norm,
 * rope, KV append, the attention kernels (decode, query-tile, non-causal), the element-wise ones, argmax, the fused
 * mat-vecs at every width, the fused norms) on small shapes checked against the reference, then
 * a recorded and replayed decode of the tiny model; {@code overflow} and {@code misaligned} make a kernel read past
 * an allocation / load a float2 from a 4-byte aligned address, which the sanitizers must stop.
 */
public final class HostSanitizerMain {
    public static void main(String[] args) {
        System.setProperty("jgemma.cuda.host.lib", args[0]);
        String mode = args[1];
        HostDriver d = new HostDriver();
        if (!d.sanitized()) throw new IllegalStateException(args[0] + " is not the sanitized build");
        switch (mode) {
            case "overflow" -> {
                DevPtr src = d.alloc(64, "16 floats"), dst = d.alloc(256, "64 floats");
                d.launch("copy_f32", 1, 1, 1, 64, 1, 1, KernelArgs.pack(Ptx.signatures().get("copy_f32"), src, dst, 64L));
            }
            case "misaligned" -> {
                DevPtr w = d.alloc(4 * 64 * 4, "weights"), x = d.alloc(4 * 64 + 4, "x"), out = d.alloc(16, "out");
                d.launch("mul_mv_f32_f32_nc1", 1, 1, 1, 32, 4, 1, KernelArgs.pack(Ptx.signatures().get("mul_mv_f32_f32_nc1"),
                        w, 256L, x.plus(4), out, 4, 64));
            }
            default -> ops(new CudaBackend(d));
        }
        System.out.println("SANITIZED RUN COMPLETED: " + mode);
    }

    private static void ops(CudaBackend b) {
        ReferenceBackend ref = new ReferenceBackend();
        for (GgmlType t : Kernels.WEIGHT_TYPES) {
            for (int n : new int[] {1, 7, 8, 15}) {  // every mat-vec width (7 = 4 + 2 + 1), then 15: the tiled mat-mat
                GgufTensorInfo w = TestWeights.random("w", t, 12, 512, t.id);
                float[] x = TestWeights.gaussian(n * 512, 1.0, n);
                check("matmul " + t, matmul(b, w, x, n), matmul(ref, w, x, n), BackendConformanceTest.MATMUL_BUDGET.get(t));
            }
            GgufTensorInfo table = TestWeights.random("table", t, 9, 256, 40 + t.id);
            check("embed " + t, embed(b, table), embed(ref, table), BackendConformanceTest.EMBED_BUDGET);
        }
        int hd = 128, nHead = 4, nKv = 2, slots = 80;  // positions up to 78: every key of a global layer still in the cache
        for (int n : new int[] {3, 12}) {  // 3 queries: flash-decoding kernels; 12 (a prompt chunk): the query-tile kernel
            float[] q = TestWeights.gaussian(n * nHead * hd, 1.0, 5);
            for (int window : new int[] {0, 16}) {
                check("attention n " + n + " window " + window, attention(b, q, n, nHead, nKv, hd, window, slots, -1),
                        attention(ref, q, n, nHead, nKv, hd, window, slots, -1), BackendConformanceTest.ATTENTION_BUDGET);
                if (n == 3) {  // an image chunk at positions 67..69: attends to all of it
                    check("non-causal attention window " + window, attention(b, q, n, nHead, nKv, hd, window, slots, 69),
                            attention(ref, q, n, nHead, nKv, hd, window, slots, 69), BackendConformanceTest.ATTENTION_BUDGET);
                }
            }
        }
        float[] gate = TestWeights.gaussian(1000, 2.0, 6), up = TestWeights.gaussian(1000, 1.0, 7);
        check("geglu/add/softcap/copy/argmax", elementwise(b, gate, up), elementwise(ref, gate, up), BackendConformanceTest.GEGLU_BUDGET);
        for (int cols : new int[] {8, 7}) {  // the fused mat-vecs at every column width (8; 4 + 2 + 1)
            check("matmul3 + matmulGeglu n=" + cols, fusedMatmuls(b, cols), fusedMatmuls(ref, cols), 2 * 5e-2 + BackendConformanceTest.GEGLU_BUDGET);
        }
        check("qkNormRopeAppend + attention, rmsNormAddNorm", fusedNorms(b), fusedNorms(ref), BackendConformanceTest.ATTENTION_BUDGET);
        ref.close();

        Gemma3Model m = Gemma3Model.load(TinyVariants.of("q4_k_m", 6, 1024), b, 16);
        Gemma3Model.Session s = m.newSession();
        int next = s.nextGreedy(new int[] {2, 105, 236, 107});
        for (int i = 0; i < 4; i++) next = s.nextGreedy(new int[] {next});  // eager, recorded, replayed
        System.out.println("tiny decode ok, " + b.kernelLaunches() + " launches, " + b.graphCount() + " graph(s)");
        b.close();
    }

    private static void check(String what, float[] got, float[] want, double budget) {
        double err = BackendConformanceTest.relError(got, want);
        if (!(err <= budget)) throw new AssertionError(what + ": error " + err + " > " + budget);
        System.out.println(what + ": error " + err);
    }

    private static float[] matmul(Backend b, GgufTensorInfo w, float[] x, int n) {
        Weight wt = b.upload(w);
        Buffer xb = b.allocate(x.length, "x"), out = b.allocate(12L * n, "out");
        b.write(xb, 0, x, 0, x.length);
        b.matmul(wt, xb, n, out);
        return read(b, out, 12 * n);
    }

    private static float[] embed(Backend b, GgufTensorInfo table) {
        Weight wt = b.upload(table);
        IntBuffer ids = b.allocateInts(3, "ids");
        b.writeInts(ids, new int[] {8, 0, 3}, 3);
        Buffer out = b.allocate(3 * 256, "out");
        b.embed(wt, ids, 3, 2f, out);
        return read(b, out, 3 * 256);
    }

    /** Queries at positions 67..69 over 70 keys; horizon ≥ 0: {@link Backend#attentionNonCausal} (attn_non_causal_f16). */
    private static float[] attention(Backend b, float[] qs, int n, int nHead, int nKv, int hd, int window, int slots, int horizon) {
        KvBuffer kv = b.allocateKv(slots, nKv * hd, "kv");
        Buffer k = b.allocate(64L * nKv * hd, "k"), v = b.allocate(64L * nKv * hd, "v");
        Buffer q = b.allocate(qs.length, "q"), out = b.allocate(qs.length, "out");
        IntBuffer pos = b.allocateInts(64, "pos");
        Weight norm = b.upload(TestWeights.random("norm", GgmlType.F32, 1, hd, 3));
        for (int p0 = 0; p0 < 67; p0 += 64) {
            int m = Math.min(64, 67 - p0);
            int[] p = new int[m];
            for (int t = 0; t < m; t++) p[t] = p0 + t;
            b.writeInts(pos, p, m);
            float[] ks = TestWeights.gaussian(m * nKv * hd, 1.0, p0), vs = TestWeights.gaussian(m * nKv * hd, 1.0, p0 + 1);
            b.write(k, 0, ks, 0, ks.length);
            b.write(v, 0, vs, 0, vs.length);
            b.rmsNorm(k, norm, m * nKv, hd, 1e-6f, k);
            b.rope(k, m, nKv, hd, pos, 10000f, 1f);
            b.kvAppend(k, v, m, pos, kv);
        }
        int[] qp = new int[n];
        for (int t = 0; t < n; t++) qp[t] = 67 + t;
        b.writeInts(pos, qp, n);
        float[] kn = TestWeights.gaussian(n * nKv * hd, 1.0, 99);
        b.write(k, 0, kn, 0, kn.length);
        b.kvAppend(k, v, n, pos, kv);
        b.write(q, 0, qs, 0, qs.length);
        b.rope(q, n, nHead, hd, pos, 10000f, 1f);
        if (horizon < 0) b.attention(q, kv, n, pos, nHead, nKv, hd, window, 0.1f, out);
        else b.attentionNonCausal(q, kv, n, pos, nHead, nKv, hd, window, 0.1f, horizon, out);
        return read(b, out, qs.length);
    }

    private static float[] elementwise(Backend b, float[] gate, float[] up) {
        Buffer g = b.allocate(gate.length, "g"), u = b.allocate(up.length, "u"), o = b.allocate(2L * gate.length, "o");
        b.write(g, 0, gate, 0, gate.length);
        b.write(u, 0, up, 0, up.length);
        b.geglu(g, u, gate.length, g);
        b.add(g, u, gate.length);
        b.softcap(g, gate.length, 5f);
        b.copy(g, 0, o, gate.length, gate.length);
        IntBuffer ids = b.allocateInts(2, "ids");
        b.argmax(o, 2, gate.length, ids);
        int[] r = new int[2];
        b.readInts(ids, r, 2);
        float[] res = read(b, o, 2 * gate.length);
        float[] out = new float[gate.length + 1];
        System.arraycopy(res, gate.length, out, 0, gate.length);
        out[gate.length] = r[1];
        return out;
    }

    /** matmul3 (Q4_K, Q5_0, Q6_K rows of 512) and matmulGeglu (Q4_K gate, Q8_0 up) on n columns; the outputs concatenated. */
    private static float[] fusedMatmuls(Backend b, int n) {
        GgmlType[] types = {GgmlType.Q4_K, GgmlType.Q5_0, GgmlType.Q6_K, GgmlType.Q8_0};
        int[] rows = {20, 24, 28, 20};
        Weight[] w = new Weight[4];
        for (int i = 0; i < 4; i++) w[i] = b.upload(TestWeights.random("w" + i, types[i], rows[i], 512, 60 + i));
        float[] x = TestWeights.gaussian(n * 512, 1.0, 61);
        Buffer xb = b.allocate(x.length, "x");
        b.write(xb, 0, x, 0, x.length);
        Buffer[] o = new Buffer[5];
        for (int i = 0; i < 5; i++) o[i] = b.allocate((long) n * 32, "o" + i);
        b.matmul3(w[0], w[1], w[2], xb, n, o[0], o[1], o[2]);
        b.matmulGeglu(w[0], w[3], xb, n, o[3], o[4]);
        float[] r = new float[n * (20 + 24 + 28 + 20)];
        int off = 0;
        for (int i = 0; i < 4; i++) {
            System.arraycopy(read(b, o[i], n * rows[i]), 0, r, off, n * rows[i]);
            off += n * rows[i];
        }
        return r;
    }

    /** qkNormRopeAppend (head_dim 128, GQA 2) then attention over the cache, and rmsNormAddNorm; outputs concatenated. */
    private static float[] fusedNorms(Backend b) {
        int n = 3, hd = 128, nHead = 4, nKv = 2;
        Weight qn = b.upload(TestWeights.random("qn", GgmlType.F32, 1, hd, 70)), kn = b.upload(TestWeights.random("kn", GgmlType.F32, 1, hd, 71));
        Buffer q = b.allocate((long) n * nHead * hd, "q"), k = b.allocate((long) n * nKv * hd, "k"), v = b.allocate((long) n * nKv * hd, "v");
        b.write(q, 0, TestWeights.gaussian(n * nHead * hd, 2.0, 72), 0, n * nHead * hd);
        b.write(k, 0, TestWeights.gaussian(n * nKv * hd, 2.0, 73), 0, n * nKv * hd);
        b.write(v, 0, TestWeights.gaussian(n * nKv * hd, 1.0, 74), 0, n * nKv * hd);
        IntBuffer pos = b.allocateInts(n, "pos");
        b.writeInts(pos, new int[] {0, 1, 2}, n);
        KvBuffer kv = b.allocateKv(8, nKv * hd, "kv");
        b.qkNormRopeAppend(q, k, v, qn, kn, n, nHead, nKv, hd, 1e-6f, pos, 10000f, 1f, kv);
        Buffer out = b.allocate((long) n * nHead * hd, "out");
        b.attention(q, kv, n, pos, nHead, nKv, hd, 0, 0.1f, out);
        int dim = 256;
        Weight pw = b.upload(TestWeights.random("post", GgmlType.F32, 1, dim, 75)), nw = b.upload(TestWeights.random("next", GgmlType.F32, 1, dim, 76));
        Buffer a = b.allocate(2L * dim, "a"), x = b.allocate(2L * dim, "x"), h = b.allocate(2L * dim, "h");
        b.write(a, 0, TestWeights.gaussian(2 * dim, 3.0, 77), 0, 2 * dim);
        b.write(x, 0, TestWeights.gaussian(2 * dim, 3.0, 78), 0, 2 * dim);
        b.rmsNormAddNorm(a, pw, x, nw, 2, dim, 1e-6f, h);
        float[] r = new float[n * nHead * hd + 2 * dim];
        System.arraycopy(read(b, out, n * nHead * hd), 0, r, 0, n * nHead * hd);
        System.arraycopy(read(b, h, 2 * dim), 0, r, n * nHead * hd, 2 * dim);
        return r;
    }

    private static float[] read(Backend b, Buffer buf, int n) {
        float[] r = new float[n];
        b.read(buf, 0, r, 0, n);
        return r;
    }
}
