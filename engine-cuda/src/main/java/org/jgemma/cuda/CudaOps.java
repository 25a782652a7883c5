package org.jgemma.cuda;

import org.jgemma.cuda.DeviceMemory.Floats;
import org.jgemma.cuda.DeviceMemory.Ints;
import org.jgemma.cuda.DeviceMemory.Kv;
import org.jgemma.cuda.DeviceMemory.Packed;
import org.jgemma.ggml.GgmlType;

/**
 * The ops of {@link CudaBackend} as kernel launches: argument checks (shapes against buffer sizes, with the buffer
 * names), launch configurations from {@link Launch}, and the kernel arguments in the order of the .cu signatures.
 * Nothing here synchronises, so a step can be captured into a CUDA graph.
 */
final class CudaOps {
    private final CudaBackend b;
    private final PrefillOps prefill;

    CudaOps(CudaBackend b) {
        this.b = b;
        this.prefill = new PrefillOps(b);
    }

    /** out [n][cols] = table rows tokens[t] · scale (get_rows.cu). */
    void embed(Packed table, Ints tokens, int n, float scale, Floats out) {
        need(n <= tokens.size(), "embed: " + n + " tokens but " + tokens.name() + " holds " + tokens.size());
        need((long) n * table.cols() <= out.size(), "embed: " + n + "x" + table.cols() + " into " + out.name() + " of " + out.size());
        int cols = Math.toIntExact(table.cols());
        b.kernels().reads(n * table.rowBytes() + 4L * n).launch(Kernels.getRows(table.type()), Launch.elementwiseGrid(cols), n, 1, Launch.EW_BLOCK, 1, 1,
                table.ptr(), table.rowBytes(), tokens.ptr(), cols, scale, out.ptr());
    }

    /** out [rows][dim] = x · 1/sqrt(mean(x²)+eps) · w (rms_norm.cu). */
    void rmsNorm(Floats x, Packed w, int rows, int dim, float eps, Floats out) {
        need(w.type() == GgmlType.F32, "rmsNorm: weight " + w.name() + " is " + w.type() + ", expected F32");
        need(w.cols() * w.rows() >= dim, "rmsNorm: weight " + w.name() + " has " + w.cols() * w.rows() + " elements, dim " + dim);
        need((long) rows * dim <= x.size() && (long) rows * dim <= out.size(),
                "rmsNorm: " + rows + "x" + dim + " over " + x.name() + " (" + x.size() + ") -> " + out.name() + " (" + out.size() + ")");
        if (dim % 32 == 0) {  // with out's q8_1 form for the mat-vec that reads it next (Q8Cache)
            Q8Cache.Q8 q = b.q8().storage(out);
            b.kernels().reads(4L * rows * dim + 4L * dim).launch(Kernels.RMS_NORM_Q8, rows, 1, 1, Launch.normBlock(dim), 1, 1, x.ptr(), w.ptr(), dim, eps, out.ptr(),
                    q.qs(), q.ds());
            b.q8().produced(out, rows, dim);
        } else {
            b.kernels().reads(4L * rows * dim + 4L * dim).launch(Kernels.RMS_NORM, rows, 1, 1, Launch.normBlock(dim), 1, 1, x.ptr(), w.ptr(), dim, eps, out.ptr());
        }
    }

    /**
     * The q8_1 form of x [n][K] for a mat-vec: the one the kernel that wrote x left (Q8Cache), else quantized now into
     * the backend's scratch (quantize_q8_1.cu, one launch). K must be a multiple of 32.
     */
    Q8Cache.Q8 activations(Floats x, int n, int K) {
        Q8Cache.Q8 q = b.q8().valid(x, n, K);
        if (q != null) return q;
        long nb = (long) n * K / 32;
        DevPtr qs = b.scratch("q8qs", (long) n * K), ds = b.scratch("q8ds", 8 * nb);
        b.kernels().reads(4L * n * K).launch(Kernels.QUANTIZE, Launch.quantizeGrid(nb), 1, 1, Launch.EW_BLOCK, 1, 1, x.ptr(), qs, ds, nb);
        return new Q8Cache.Q8(qs, ds);
    }

    /**
     * out [n][rows] = W x: for block types the activations are first quantized to q8_1 (quantize_q8_1.cu) into
     * scratch, then the mat-vec kernels take the batch 8, 4, 2 or 1 token columns at a time (mul_mv_*_f32.cu); a
     * batch of more than 8 goes to the tiled mat-mat instead (PrefillOps, mul_mm_*_f32.cu).
     */
    void matmul(Packed w, Floats x, int n, Floats out) {
        long k = w.cols(), rows = w.rows();
        need(n > 0, "matmul " + w.name() + ": n = " + n);
        need((long) n * k <= x.size(), "matmul " + w.name() + ": x " + x.name() + " has " + x.size() + " elements, needs " + n + "x" + k);
        need((long) n * rows <= out.size(), "matmul " + w.name() + ": out " + out.name() + " has " + out.size() + " elements, needs " + n + "x" + rows);
        need(k <= Integer.MAX_VALUE / 8, "matmul " + w.name() + ": rows of " + k + " elements are too long");
        int K = (int) k, R = Math.toIntExact(rows);
        int grid = Launch.matVecGrid(rows);
        Kernels kernels = b.kernels();
        PrefillOps.countWeightReads(w.rowBytes() * rows, n);
        if (Kernels.quantized(w.type())) {
            need(K % 32 == 0, "matmul " + w.name() + ": " + K + " columns is not a multiple of 32");
            Q8Cache.Q8 a = activations(x, n, K);  // left by the kernel that wrote x (Q8Cache), else quantized now
            DevPtr qs = a.qs(), ds = a.ds();
            if (PrefillOps.tiled(n)) {
                prefill.matmulQ(w, qs, ds, n, out);
                return;
            }
            int c0 = 0;
            for (int nc : Launch.columnChunks(n)) {
                kernels.reads(rows * w.rowBytes() + (long) nc * K + 8L * nc * (K / 32))  // weights + q8_1 activations
                        .launch(Kernels.mulMv(w.type(), nc), grid, 1, 1, 32, Launch.MV_WARPS, 1, w.ptr(), w.rowBytes(),
                        qs.plus((long) c0 * K), ds.plus(8L * c0 * (K / 32)),
                        out.ptr().plus(4L * c0 * R), R, K);
                c0 += nc;
            }
        } else {
            need(K % 2 == 0, "matmul " + w.name() + ": " + K + " columns is odd");
            if (PrefillOps.tiled(n)) {
                prefill.matmulF(w, x, n, out);
                return;
            }
            int c0 = 0;
            for (int nc : Launch.columnChunks(n)) {
                kernels.reads(rows * w.rowBytes() + 4L * nc * K)
                        .launch(Kernels.mulMv(w.type(), nc), grid, 1, 1, 32, Launch.MV_WARPS, 1, w.ptr(), w.rowBytes(),
                        x.ptr().plus(4L * c0 * K), out.ptr().plus(4L * c0 * R), R, K);
                c0 += nc;
            }
        }
    }

    /** NeoX RoPE in place on x [n][nHeads][headDim] (rope_neox.cu); theta_scale = powf(base, -2/headDim) as ggml. */
    void rope(Floats x, int n, int nHeads, int headDim, Ints positions, float base, float freqScale) {
        need(headDim % 2 == 0 && headDim <= 2048, "rope: head_dim " + headDim + " must be even and at most 2048");
        need((long) n * nHeads * headDim <= x.size(), "rope: " + n + "x" + nHeads + "x" + headDim + " over " + x.name() + " of " + x.size());
        need(n <= positions.size(), "rope: " + n + " tokens but " + positions.name() + " holds " + positions.size());
        b.kernels().reads(4L * n * nHeads * headDim + 4L * n).launch(Kernels.ROPE, n * nHeads, 1, 1, headDim / 2, 1, 1, x.ptr(), positions.ptr(), nHeads, headDim,
                Launch.thetaScale(base, headDim), freqScale);
    }

    /** K, V rows [n][kvDim] into slots positions[t] % slots of the f16 cache (kv_append.cu). */
    void kvAppend(Floats k, Floats v, int n, Ints positions, Kv cache) {
        long len = (long) n * cache.kvDim();
        need(len <= k.size() && len <= v.size(), "kvAppend: " + n + "x" + cache.kvDim() + " from " + k.name() + " (" + k.size()
                + "), " + v.name() + " (" + v.size() + ")");
        need(n <= positions.size(), "kvAppend: " + n + " tokens but " + positions.name() + " holds " + positions.size());
        b.kernels().reads(8L * n * cache.kvDim() + 4L * n).launch(Kernels.KV_APPEND, Launch.elementwiseGrid(cache.kvDim()), n, 1, Launch.EW_BLOCK, 1, 1,
                k.ptr(), v.ptr(), positions.ptr(), cache.kvDim(), cache.slots(), cache.k(), cache.v());
    }

    /**
     * Flash-decoding attention (flash_attn_ext_f16.cu): split kernel, then the combine kernel into out [n][nHead][D]
     * and its q8_1 form. The split count comes from the SM count the driver reports and the span the layer can see
     * (Launch.attentionSplit); each split block's warps take keys in turn. More than 8 queries (a prompt chunk) go to
     * the query-tile kernel (PrefillOps, flash_attn_tile_f16.cu).
     */
    void attention(Floats q, Kv cache, int n, Ints positions, int nHead, int nKvHead, int headDim, int window, float scale,
                   Floats out) {
        Launch.checkAttentionShape(nHead, nKvHead, headDim, cache.kvDim());
        long len = (long) n * nHead * headDim;
        need(len <= q.size() && len <= out.size(), "attention: " + n + "x" + nHead + "x" + headDim + " over " + q.name() + " ("
                + q.size() + ") -> " + out.name() + " (" + out.size() + ")");
        need(n <= positions.size(), "attention: " + n + " tokens but " + positions.name() + " holds " + positions.size());
        if (PrefillOps.tiled(n)) {  // a prompt chunk: a tile of queries per block
            prefill.attention(q, cache, n, positions, nHead, nKvHead, headDim, window, scale, out);
            return;
        }
        int span = Launch.attentionSpan(cache.slots(), window);
        Launch.AttentionSplit split = Launch.attentionSplit(n, nHead, span, b.multiprocessors());
        long parts = (long) n * nHead * split.nsplit();
        DevPtr acc = b.scratch("faAcc", 4 * parts * headDim), ms = b.scratch("faMs", 8 * parts);
        Kernels kernels = b.kernels();
        // reads: q, and K and V (f16) of every key the span holds, once per query (its KV heads): an upper bound
        kernels.reads(4L * n * nHead * headDim + 4L * n * span * cache.kvDim()).launch(Kernels.FA_SPLIT, split.nsplit(), nHead, n, 32, Launch.FA_WARPS, 1, q.ptr(), cache.k(), cache.v(),
                positions.ptr(), nHead, nKvHead, headDim, cache.slots(), window, split.minChunk(), scale, acc, ms);
        Q8Cache.Q8 oq = b.q8().storage(out);  // the combine quantizes out for the O projection (headDim: whole q8_1 blocks)
        kernels.reads(parts * (4L * headDim + 8)).launch(Kernels.FA_COMBINE_Q8, nHead, n, 1, headDim, 1, 1, acc, ms, split.nsplit(), headDim, out.ptr(), oq.qs(), oq.ds());
        b.q8().produced(out, n, nHead * headDim);
    }

    /**
     * Non-causal attention (attn_non_causal_f16.cu): query t sees keys up to max(positions[t], horizon), one block per
     * (head, query) into out [n][nHead][D]; see Backend#attentionNonCausal.
     */
    void attentionNonCausal(Floats q, Kv cache, int n, Ints positions, int nHead, int nKvHead, int headDim, int window,
                            float scale, int horizon, Floats out) {
        Launch.checkAttentionShape(nHead, nKvHead, headDim, cache.kvDim());
        long len = (long) n * nHead * headDim;
        need(len <= q.size() && len <= out.size(), "attentionNonCausal: " + n + "x" + nHead + "x" + headDim + " over " + q.name()
                + " (" + q.size() + ") -> " + out.name() + " (" + out.size() + ")");
        need(n <= positions.size(), "attentionNonCausal: " + n + " tokens but " + positions.name() + " holds " + positions.size());
        Launch.attentionSpan(cache.slots(), window); // checks the cache
        if (n == 0) return;
        b.kernels().launch(Kernels.ATTN_NON_CAUSAL, nHead, n, 1, 32, Launch.NC_WARPS, 1, q.ptr(), cache.k(), cache.v(),
                positions.ptr(), nHead, nKvHead, headDim, cache.slots(), window, horizon, scale, out.ptr());
    }

    void geglu(Floats gate, Floats up, long n, Floats out) {
        need(n <= gate.size() && n <= up.size() && n <= out.size(), "geglu: " + n + " over " + gate.name() + ", " + up.name() + " -> " + out.name());
        b.kernels().reads(8 * n).launch(Kernels.GEGLU, Launch.elementwiseGrid(n), 1, 1, Launch.EW_BLOCK, 1, 1, gate.ptr(), up.ptr(), out.ptr(), n);
    }

    void add(Floats acc, Floats x, long n) {
        need(n <= acc.size() && n <= x.size(), "add: " + n + " over " + acc.name() + " (" + acc.size() + "), " + x.name() + " (" + x.size() + ")");
        b.kernels().reads(8 * n).launch(Kernels.ADD, Launch.elementwiseGrid(n), 1, 1, Launch.EW_BLOCK, 1, 1, acc.ptr(), x.ptr(), n);
    }

    void softcap(Floats x, long n, float cap) {
        need(n <= x.size(), "softcap: " + n + " over " + x.name() + " of " + x.size());
        need(cap > 0, "softcap: cap " + cap);
        b.kernels().reads(4 * n).launch(Kernels.SOFTCAP, Launch.elementwiseGrid(n), 1, 1, Launch.EW_BLOCK, 1, 1, x.ptr(), cap, n);
    }

    void copy(Floats src, long srcOff, Floats dst, long dstOff, long n) {
        need(srcOff >= 0 && srcOff + n <= src.size(), "copy: [" + srcOff + ", " + (srcOff + n) + ") outside " + src.name() + " of " + src.size());
        need(dstOff >= 0 && dstOff + n <= dst.size(), "copy: [" + dstOff + ", " + (dstOff + n) + ") outside " + dst.name() + " of " + dst.size());
        b.kernels().reads(4 * n).launch(Kernels.COPY, Launch.elementwiseGrid(n), 1, 1, Launch.EW_BLOCK, 1, 1,
                src.ptr().plus(4 * srcOff), dst.ptr().plus(4 * dstOff), n);
    }

    void argmax(Floats x, int rows, int dim, Ints out) {
        need((long) rows * dim <= x.size(), "argmax: " + rows + "x" + dim + " over " + x.name() + " of " + x.size());
        need(rows <= out.size(), "argmax: " + rows + " rows into " + out.name() + " of " + out.size());
        b.kernels().reads(4L * rows * dim).launch(Kernels.ARGMAX, rows, 1, 1, 1024, 1, 1, x.ptr(), dim, out.ptr());
    }

    private static void need(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("cuda " + message);
    }
}
