package org.jgemma.cuda;

import org.jgemma.cuda.DeviceMemory.Floats;
import org.jgemma.cuda.DeviceMemory.Ints;
import org.jgemma.cuda.DeviceMemory.Kv;
import org.jgemma.cuda.DeviceMemory.Packed;
import org.jgemma.ggml.GgmlType;

/**
 * The fused ops of the decode step as kernel launches (the Backend SPI's default methods matmul3, matmul2,
 * matmulGeglu, qkNormRopeAppend and rmsNormAddNorm, each one launch per column chunk here). Each method returns false,
 * launching nothing, where its kernel does not apply (float weights, more than 8 token columns, rows not a multiple
 * of 32); CudaBackend then runs the SPI's composition of the plain ops. Every fused kernel computes what the composed
 * ops compute, in the same order, so the results are equal bit for bit on the host driver (CudaStepReplayTest compares
 * a recorded fused step with the composed eager one).
 */
final class FusedOps {
    private final CudaBackend b;
    private final CudaOps ops;

    FusedOps(CudaBackend b, CudaOps ops) {
        this.b = b;
        this.ops = ops;
    }

    /** Most token columns a fused mat-vec launch takes; larger batches (prefill) use the plain matmul path. */
    static final int MAX_COLUMNS = 8;

    private static boolean blockTypes(Packed... ws) {
        for (Packed w : ws) if (!Kernels.quantized(w.type())) return false;
        return true;
    }

    /** Two or three matrices on one input x [n][K] (all K columns) in one mul_mv3 launch per column chunk. */
    boolean matmulN(Packed[] w, Floats x, int n, Floats[] out) {
        long k = w[0].cols();
        for (Packed p : w) if (p.cols() != k) return false;
        if (n < 1 || n > MAX_COLUMNS || !blockTypes(w) || k % 32 != 0 || k > Integer.MAX_VALUE / 8) return false;
        int K = (int) k;
        need((long) n * K <= x.size(), "matmul" + w.length + ": x " + x.name() + " has " + x.size() + " elements, needs " + n + "x" + K);
        int grid = 0;
        int[] rows = new int[3];
        for (int i = 0; i < w.length; i++) {
            rows[i] = Math.toIntExact(w[i].rows());
            need((long) n * rows[i] <= out[i].size(), "matmul" + w.length + " " + w[i].name() + ": out " + out[i].name() + " has "
                    + out[i].size() + " elements, needs " + n + "x" + rows[i]);
            need(out[i].ptr() != x.ptr(), "matmul" + w.length + ": output " + out[i].name() + " is the input");
            for (int j = 0; j < i; j++) need(out[i].ptr() != out[j].ptr(), "matmul" + w.length + ": outputs must differ");
            grid += Launch.matVecGrid(rows[i]);
        }
        long weightBytes = 0;
        for (Packed p : w) weightBytes += p.rows() * p.rowBytes();
        Q8Cache.Q8 a = ops.activations(x, n, K);
        int last = w.length - 1;  // a third matrix of 0 rows (no blocks) when there are two
        int c0 = 0;
        for (int nc : Launch.columnChunks(n)) {
            Object[] args = new Object[18];
            args[0] = a.qs().plus((long) c0 * K);
            args[1] = a.ds().plus(8L * c0 * (K / 32));
            args[2] = K;
            for (int i = 0; i < 3; i++) {
                int s = Math.min(i, last);
                args[3 + 5 * i] = w[s].ptr();
                args[4 + 5 * i] = w[s].rowBytes();
                args[5 + 5 * i] = w[s].type().id;
                args[6 + 5 * i] = i <= last ? rows[i] : 0;
                args[7 + 5 * i] = out[s].ptr().plus(4L * c0 * rows[s]);
            }
            b.kernels().reads(weightBytes + (long) nc * K + 8L * nc * (K / 32)).launch(Kernels.mulMv3(nc), grid, 1, 1, 32, Launch.MV_WARPS, 1, args);
            c0 += nc;
        }
        return true;
    }

    /** out [n][rows] = gelu_tanh(Wg·x) · (Wu·x) in one launch per column chunk. */
    boolean matmulGeglu(Packed gate, Packed up, Floats x, int n, Floats out) {
        long k = gate.cols();
        if (up.cols() != k || up.rows() != gate.rows() || n < 1 || n > MAX_COLUMNS || !blockTypes(gate, up) || k % 32 != 0
                || k > Integer.MAX_VALUE / 8) {
            return false;
        }
        int K = (int) k, R = Math.toIntExact(gate.rows());
        need((long) n * K <= x.size(), "matmulGeglu: x " + x.name() + " has " + x.size() + " elements, needs " + n + "x" + K);
        need((long) n * R <= out.size(), "matmulGeglu: out " + out.name() + " has " + out.size() + " elements, needs " + n + "x" + R);
        need(out.ptr() != x.ptr(), "matmulGeglu: the output " + out.name() + " is the input");
        Q8Cache.Q8 a = ops.activations(x, n, K);
        int c0 = 0;
        for (int nc : Launch.columnChunks(n)) {
            b.kernels().reads(R * (gate.rowBytes() + up.rowBytes()) + (long) nc * K + 8L * nc * (K / 32)).launch(Kernels.mulMvGeglu(nc), Launch.matVecGrid(R), 1, 1, 32, Launch.MV_WARPS, 1,
                    a.qs().plus((long) c0 * K), a.ds().plus(8L * c0 * (K / 32)), K, gate.ptr(), gate.rowBytes(), gate.type().id,
                    up.ptr(), up.rowBytes(), up.type().id, R, out.ptr().plus(4L * c0 * R));
            c0 += nc;
        }
        return true;
    }

    /** Q/K RMSNorm per head, NeoX RoPE of both, and (cache not null) the K/V append: one launch (qk_norm_rope_kv.cu). */
    boolean qkNormRopeAppend(Floats q, Floats k, Floats v, Packed qNorm, Packed kNorm, int n, int nHead, int nKvHead,
                             int headDim, float eps, Ints positions, float base, float freqScale, Kv cache) {
        need(headDim % 2 == 0 && headDim <= 2048, "qkNormRopeAppend: head_dim " + headDim + " must be even and at most 2048");
        need(qNorm.type() == GgmlType.F32 && kNorm.type() == GgmlType.F32, "qkNormRopeAppend: norm weights must be F32");
        need(qNorm.cols() * qNorm.rows() >= headDim && kNorm.cols() * kNorm.rows() >= headDim,
                "qkNormRopeAppend: norm weights shorter than head_dim " + headDim);
        long qLen = (long) n * nHead * headDim, kLen = (long) n * nKvHead * headDim;
        need(qLen <= q.size() && kLen <= k.size() && kLen <= v.size(), "qkNormRopeAppend: " + n + " tokens x (" + nHead + " + "
                + nKvHead + ") heads x " + headDim + " over " + q.name() + " (" + q.size() + "), " + k.name() + " (" + k.size()
                + "), " + v.name() + " (" + v.size() + ")");
        need(n <= positions.size(), "qkNormRopeAppend: " + n + " tokens but " + positions.name() + " holds " + positions.size());
        if (cache != null) {
            need(cache.kvDim() == nKvHead * headDim, "qkNormRopeAppend: KV cache row " + cache.kvDim() + " != n_kv_head·head_dim "
                    + nKvHead * headDim);
        }
        DevPtr kc = cache != null ? cache.k() : k.ptr(), vc = cache != null ? cache.v() : k.ptr();  // unused without a cache
        b.kernels().reads(4 * (qLen + 2 * kLen) + 8L * headDim + 4L * n).launch(Kernels.QK_NORM_ROPE_KV, nHead + nKvHead, n, 1, Launch.normBlock(headDim), 1, 1, q.ptr(), k.ptr(),
                v.ptr(), qNorm.ptr(), kNorm.ptr(), positions.ptr(), nHead, nKvHead, headDim, eps,
                Launch.thetaScale(base, headDim), freqScale, kc, vc, cache != null ? cache.slots() : 1, cache != null ? 1 : 0);
        return true;
    }

    /** a = rmsNorm(a)·post; x += a; out = rmsNorm(x)·next with its q8_1 form (next null: no out). One launch. */
    boolean rmsNormAddNorm(Floats a, Packed post, Floats x, Packed next, int rows, int dim, float eps, Floats out) {
        if (next != null && dim % 32 != 0) return false;
        need(post.type() == GgmlType.F32 && (next == null || next.type() == GgmlType.F32), "rmsNormAddNorm: norm weights must be F32");
        need(post.cols() * post.rows() >= dim && (next == null || next.cols() * next.rows() >= dim),
                "rmsNormAddNorm: norm weights shorter than dim " + dim);
        long len = (long) rows * dim;
        need(len <= a.size() && len <= x.size() && (next == null || len <= out.size()), "rmsNormAddNorm: " + rows + "x" + dim
                + " over " + a.name() + " (" + a.size() + "), " + x.name() + " (" + x.size() + ")" + (next == null ? "" : ", "
                + out.name() + " (" + out.size() + ")"));
        need(a.ptr() != x.ptr() && (next == null || (out.ptr() != a.ptr() && out.ptr() != x.ptr())),
                "rmsNormAddNorm: a, x and out must be different buffers");
        Q8Cache.Q8 q = next != null ? b.q8().storage(out) : null;
        b.kernels().reads(8 * len + 8L * dim).launch(Kernels.NORM_ADD_NORM, rows, 1, 1, Launch.normBlock(dim), 1, 1, a.ptr(), post.ptr(), x.ptr(),
                next != null ? next.ptr() : post.ptr(), dim, eps, next != null ? out.ptr() : a.ptr(),
                q != null ? q.qs() : a.ptr(), q != null ? q.ds() : a.ptr(), next != null ? 1 : 0);
        if (next != null) b.q8().produced(out, rows, dim);
        return true;
    }

    private static void need(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("cuda " + message);
    }
}
