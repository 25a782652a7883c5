package org.jgemma.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * Launch configurations of the kernels (grid and block sizes, batch chunks, attention splits): pure arithmetic, kept
 * apart from the driver calls so it is unit-tested without a GPU. The constants mirror the {@code #define}s of the
 * .cu files (MV_WARPS, FA_WARPS, FA_MAX_PAIRS).
 */
final class Launch {
    private Launch() {}

    /** Warps (rows) per block of the mat-vec kernels: mul_mv.cuh MV_WARPS. */
    static final int MV_WARPS = 4;
    /** Token columns one mat-vec launch can take: the kernels exist for 1, 2, 4 and 8 (mul_mv.cuh). */
    static final int[] MV_COLUMNS = {8, 4, 2, 1};
    /** Warps per attention split block: flash_attn_ext_f16.cu FA_WARPS. */
    static final int FA_WARPS = 4;
    /** Warps per block of the non-causal attention kernel: attn_non_causal_f16.cu NC_WARPS. */
    static final int NC_WARPS = 4;
    /** Largest head dimension of the attention kernel (FA_MAX_PAIRS · 64). */
    static final int FA_MAX_HEAD_DIM = 256;
    /** Keys one attention split takes at least, and the most splits per (query, head). */
    static final int FA_MIN_CHUNK = 64, FA_MAX_SPLITS = 64;
    /** Upper bound on n · nHead · nsplit, so prefill keeps its partial-result buffer small. */
    static final int FA_MAX_PARTS = 8192;
    /** Threads per block of the element-wise kernels, and the most blocks (they loop over the rest). */
    static final int EW_BLOCK = 256, EW_MAX_GRID = 1 << 20;

    /** Blocks for a mat-vec over {@code rows} rows. */
    static int matVecGrid(long rows) {
        if (rows <= 0 || rows > Integer.MAX_VALUE) throw new IllegalArgumentException("mat-vec rows out of range: " + rows);
        return (int) ((rows + MV_WARPS - 1) / MV_WARPS);
    }

    /** Splits a batch of {@code n} token columns into launches of 8, 4, 2 and 1 columns (e.g. 13 → [8, 4, 1]). */
    static int[] columnChunks(int n) {
        if (n <= 0) throw new IllegalArgumentException("batch of " + n + " tokens");
        List<Integer> chunks = new ArrayList<>();
        int left = n;
        for (int c : MV_COLUMNS) {
            while (left >= c) {
                chunks.add(c);
                left -= c;
            }
        }
        return chunks.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Blocks for an element-wise kernel over {@code n} elements (grid-stride beyond EW_MAX_GRID blocks). */
    static int elementwiseGrid(long n) {
        if (n < 0) throw new IllegalArgumentException("negative length " + n);
        return (int) Math.max(1, Math.min(EW_MAX_GRID, (n + EW_BLOCK - 1) / EW_BLOCK));
    }

    /** Threads per block of rms_norm for rows of {@code dim}: about 8 elements a thread, a power of two in [32, 1024]. */
    static int normBlock(int dim) {
        int want = Math.max(1, (dim + 7) / 8);
        int p = Integer.highestOneBit(want);
        if (p < want) p <<= 1;
        return Math.clamp(p, 32, 1024);
    }

    /** Key positions a query can see at most: the window on sliding layers (bounded by the cache), else the cache. */
    static int attentionSpan(int slots, int window) {
        if (slots <= 0) throw new IllegalArgumentException("KV cache with " + slots + " slots");
        return window > 0 ? Math.min(window, slots) : slots;
    }

    /**
     * How the key range of each query is split (flash-decoding): {@code nsplit} blocks per (query, head), each taking an
     * equal share of at least {@code minChunk} of the keys the query sees. The share is computed by the kernel from the
     * position it reads on the device, so a recorded step splits the keys of each new position evenly when replayed
     * (splits past the last key exit at once), and nsplit depends only on the shape and the device: enough blocks for
     * two waves over the multiprocessors, no more splits than the span has minChunk-key pieces.
     */
    record AttentionSplit(int nsplit, int minChunk) {}

    static AttentionSplit attentionSplit(int n, int nHead, int span, int multiprocessors) {
        if (n <= 0 || nHead <= 0 || span <= 0 || multiprocessors <= 0) {
            throw new IllegalArgumentException("attention n=" + n + " nHead=" + nHead + " span=" + span + " SMs=" + multiprocessors);
        }
        long queries = (long) n * nHead;
        long want = (2L * multiprocessors + queries - 1) / queries;           // two waves of blocks
        long bySpan = (span + FA_MIN_CHUNK - 1) / FA_MIN_CHUNK;               // no split smaller than FA_MIN_CHUNK keys
        long nsplit = Math.min(Math.min(want, bySpan), FA_MAX_SPLITS);
        nsplit = Math.min(nsplit, FA_MAX_PARTS / queries);                   // bounded partial-result buffer in prefill
        return new AttentionSplit((int) Math.max(1, nsplit), FA_MIN_CHUNK);
    }

    /** Checks the shapes the attention kernels handle; the message says which limit is broken. */
    static void checkAttentionShape(int nHead, int nKvHead, int headDim, int kvDim) {
        if (headDim % 64 != 0 || headDim > FA_MAX_HEAD_DIM) {
            throw new UnsupportedOperationException("cuda attention: head_dim " + headDim
                    + " not supported (needs a multiple of 64, at most " + FA_MAX_HEAD_DIM + ")");
        }
        if (nKvHead <= 0 || nHead % nKvHead != 0) {
            throw new IllegalArgumentException("cuda attention: n_head " + nHead + " is not a multiple of n_kv_head " + nKvHead);
        }
        if (kvDim != nKvHead * headDim) {
            throw new IllegalArgumentException("cuda attention: KV cache row " + kvDim + " != n_kv_head·head_dim " + nKvHead * headDim);
        }
    }

    /** Blocks of quantize_q8_1 for {@code nblocks} q8_1 blocks: one thread per element, 256 a block (no grid-stride). */
    static int quantizeGrid(long nblocks) {
        long blocks = (nblocks * 32 + EW_BLOCK - 1) / EW_BLOCK;
        if (nblocks <= 0 || blocks > Integer.MAX_VALUE) throw new IllegalArgumentException("quantize of " + nblocks + " q8_1 blocks");
        return (int) blocks;
    }

    /** theta_scale of rope_neox: powf(base, -2.0f/headDim), the float ggml computes on the host (ggml-cuda rope.cu). */
    static float thetaScale(float base, int headDim) {
        return (float) Math.pow(base, -2.0f / headDim);
    }
}
