package org.jgemma.cuda;

import java.util.concurrent.atomic.LongAdder;
import org.jgemma.cuda.DeviceMemory.Floats;
import org.jgemma.cuda.DeviceMemory.Ints;
import org.jgemma.cuda.DeviceMemory.Kv;
import org.jgemma.cuda.DeviceMemory.Packed;
import org.jgemma.ggml.GgmlType;

/**
 * The prompt-chunk path of {@link CudaOps}: batches of more than {@link #MAX_MATVEC_COLUMNS} tokens go to the tiled
 * mat-mat kernels (mul_mm_q_f32.cu, mul_mm_f_f32.cu: each weight block read once per {@link #MM_X} tokens) and to the
 * query-tile attention (flash_attn_tile_f16.cu: each key read once per {@link #FT_Q} queries); 1 to 8 columns keep the
 * mat-vec of mul_mv.cuh and the flash-decoding attention. The launch arithmetic is static, so it is unit-tested
 * without a GPU; the constants mirror the {@code #define}s of those .cu files.
 *
 * <p>It also counts the weight bytes every matmul reads ({@link #weightBytesRead}) beside what the 8-column mat-vec
 * alone would read for the same calls ({@link #weightBytesReadByMatVec}): {@code bench --json} prints both for the pp
 * test. Prompt chunks run eagerly (only the decode step is recorded), so the counts are exact for prefill.
 */
final class PrefillOps {
    /** Batches up to this many tokens use the multi-column mat-vec (mul_mv.cuh nc1..nc8); larger ones the tiles. */
    static final int MAX_MATVEC_COLUMNS = 8;
    /** Weight rows and token columns per mat-mat tile, warps per block: mul_mm_*_f32.cu MM_Y, MM_X, MM_WARPS. */
    static final int MM_Y = 64, MM_X = 64, MM_WARPS = 4;
    /** Queries per attention block and warps: flash_attn_tile_f16.cu FT_Q, FT_WARPS. */
    static final int FT_Q = 16, FT_WARPS = 4;

    /**
     * {@code -Djgemma.cuda.prefill=matvec} (or env JGEMMA_CUDA_PREFILL=matvec) sends every batch through the mat-vec and
     * flash-decoding kernels, as before the tiles existed: the same build measures both on a GPU (run-on-gpu.sh).
     */
    static final boolean TILES = !"matvec".equals(System.getProperty("jgemma.cuda.prefill",
            System.getenv().getOrDefault("JGEMMA_CUDA_PREFILL", "tiles")));

    static final LongAdder WEIGHT_BYTES_READ = new LongAdder(), WEIGHT_BYTES_READ_MATVEC = new LongAdder(),
            WEIGHT_BYTES = new LongAdder();

    private final CudaBackend b;

    PrefillOps(CudaBackend b) {
        this.b = b;
    }

    /** Whether a batch of n tokens takes the tiled kernels. */
    static boolean tiled(int n) {
        return TILES && n > MAX_MATVEC_COLUMNS;
    }

    /** Weight bytes read by every matmul of every CUDA backend of this process (kernel-side model: tiles × weight bytes). */
    static long weightBytesRead() {
        return WEIGHT_BYTES_READ.sum();
    }

    /** What the 8/4/2/1-column mat-vec launches would have read for the same matmuls. */
    static long weightBytesReadByMatVec() {
        return WEIGHT_BYTES_READ_MATVEC.sum();
    }

    /** The weight bytes of the matmuls called (each call counted once, whatever its width). */
    static long weightBytes() {
        return WEIGHT_BYTES.sum();
    }

    /** Counts one matmul of {@code n} columns over a weight of {@code bytes}. */
    static void countWeightReads(long bytes, int n) {
        WEIGHT_BYTES.add(bytes);
        long matVecPasses = Launch.columnChunks(n).length;
        WEIGHT_BYTES_READ_MATVEC.add(bytes * matVecPasses);
        WEIGHT_BYTES_READ.add(bytes * (tiled(n) ? columnTiles(n) : matVecPasses));
    }

    /** Blocks along the rows of a mat-mat over {@code rows} rows. */
    static int rowTiles(long rows) {
        if (rows <= 0 || rows > Integer.MAX_VALUE) throw new IllegalArgumentException("mat-mat rows out of range: " + rows);
        return (int) ((rows + MM_Y - 1) / MM_Y);
    }

    /** Blocks along the tokens: each reads the whole weight once. */
    static int columnTiles(int n) {
        if (n <= 0) throw new IllegalArgumentException("batch of " + n + " tokens");
        return (n + MM_X - 1) / MM_X;
    }

    /** Query tiles of the attention kernel. */
    static int queryTiles(int n) {
        if (n <= 0) throw new IllegalArgumentException("batch of " + n + " tokens");
        return (n + FT_Q - 1) / FT_Q;
    }

    /**
     * Key splits of the query-tile attention (flash_attn_tile_f16.cu): enough blocks for two waves over the
     * multiprocessors, no split smaller than {@link Launch#FA_MIN_CHUNK} keys of the tile's range (at most span + FT_Q − 1
     * keys), the partial results bounded by {@link Launch#FA_MAX_PARTS} (n · nHead · nsplit); 1 means no combine launch.
     */
    static int attentionSplits(int n, int nHead, int span, int multiprocessors) {
        if (n <= 0 || nHead <= 0 || span <= 0 || multiprocessors <= 0) {
            throw new IllegalArgumentException("attention n=" + n + " nHead=" + nHead + " span=" + span + " SMs=" + multiprocessors);
        }
        long blocks = (long) queryTiles(n) * nHead;
        long want = (2L * multiprocessors + blocks - 1) / blocks;
        long bySpan = ((long) span + FT_Q - 1 + Launch.FA_MIN_CHUNK - 1) / Launch.FA_MIN_CHUNK;
        long nsplit = Math.min(Math.min(want, bySpan), Launch.FA_MAX_SPLITS);
        nsplit = Math.min(nsplit, Launch.FA_MAX_PARTS / ((long) n * nHead));
        return (int) Math.max(1, nsplit);
    }

    /** out [n][rows] = W x with x already quantized to q8_1 (qs [n][K] int8, ds [n][K/32] (d, s)): mul_mm_q_f32.cu. */
    void matmulQ(Packed w, DevPtr qs, DevPtr ds, int n, Floats out) {
        int rows = Math.toIntExact(w.rows()), k = Math.toIntExact(w.cols());
        if (!Kernels.quantized(w.type())) throw new IllegalArgumentException("cuda mat-mat: " + w.type() + " is not a block type");
        if (w.type() == GgmlType.Q2_K) {  // its own entry (a min per 16 quants); the other block types share one
            b.kernels().launch(Kernels.MUL_MM_Q2_K, rowTiles(rows), columnTiles(n), 1, 32, MM_WARPS, 1,
                    w.ptr(), w.rowBytes(), qs, ds, out.ptr(), rows, n, k);
        } else {
            b.kernels().launch(Kernels.MUL_MM_Q, rowTiles(rows), columnTiles(n), 1, 32, MM_WARPS, 1,
                    w.type().id, w.ptr(), w.rowBytes(), qs, ds, out.ptr(), rows, n, k);
        }
    }

    /** out [n][rows] = W x for float weights (F32, F16, BF16), x [n][K] floats: mul_mm_f_f32.cu. */
    void matmulF(Packed w, Floats x, int n, Floats out) {
        int rows = Math.toIntExact(w.rows()), k = Math.toIntExact(w.cols());
        if (w.type() != GgmlType.F32 && w.type() != GgmlType.F16 && w.type() != GgmlType.BF16) {
            throw new IllegalArgumentException("cuda mat-mat: " + w.type() + " is not a float type");
        }
        b.kernels().launch(Kernels.MUL_MM_F, rowTiles(rows), columnTiles(n), 1, 32, MM_WARPS, 1,
                w.type().id, w.ptr(), w.rowBytes(), x.ptr(), out.ptr(), rows, n, k);
    }

    /**
     * Causal attention of a prompt chunk (shapes checked by CudaOps.attention): one launch of the query-tile kernel,
     * plus the combine kernel of flash_attn_ext_f16.cu when the keys are split.
     */
    void attention(Floats q, Kv cache, int n, Ints positions, int nHead, int nKvHead, int headDim, int window, float scale,
                   Floats out) {
        int span = Launch.attentionSpan(cache.slots(), window);
        int nsplit = attentionSplits(n, nHead, span, b.multiprocessors());
        long parts = (long) n * nHead * nsplit;
        DevPtr acc = b.scratch("faAcc", nsplit > 1 ? 4 * parts * headDim : 4),
                ms = b.scratch("faMs", nsplit > 1 ? 8 * parts : 8);
        Kernels kernels = b.kernels();
        kernels.launch(Kernels.FA_TILE, queryTiles(n), nHead, nsplit, 32, FT_WARPS, 1, q.ptr(), cache.k(), cache.v(),
                positions.ptr(), n, nHead, nKvHead, headDim, cache.slots(), window, Launch.FA_MIN_CHUNK, scale, out.ptr(),
                acc, ms);
        if (nsplit > 1) {
            kernels.launch(Kernels.FA_COMBINE, nHead, n, 1, headDim, 1, 1, acc, ms, nsplit, headDim, out.ptr());
        }
    }
}
