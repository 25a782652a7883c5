// Tiled quantized mat-mat for prompt chunks (more than 8 token columns; 1-8 use the mat-vec of mul_mv.cuh): each block
// computes a tile of MM_Y weight rows by MM_X token columns, so every weight block is read from memory once per MM_X
// tokens instead of once per 8. After ggml-cuda mmq.cuh (mul_mat_q_process_tile on its dp4a path: load_tiles_* puts
// a weight tile in shared memory, a tile of q8_1 activations goes beside it, vec_dot_*_q8_1_dp4a multiplies both,
// mmq_write_back_dp4a stores), with this project's sub-block decoders (quants.cuh T::load, the ones the mat-vec uses)
// in place of ggml's load_tiles_*. MM_X = 64 is ggml's largest dp4a tile (MMQ_DP4A_MAX_BATCH_SIZE).
//
// One kernel serves every block type: the type (its ggml id) only changes how the weight tile is decoded (a switch
// on a launch parameter, the same branch for every thread), and the product loop, the bulk of the code, is shared;
// per-type kernels would multiply the PTX by ten. Q2_K has its own entry: its mins change every 16 quants, which adds
// a term per 16-half to the product (vecdotq.cuh vec_dot_q2_K_q8_1_impl_mmq).
//
// Launch: grid (ceil(rows / MM_Y), ceil(n / MM_X)), block (32, MM_WARPS). Per K step of MM_KS 32-element sub-blocks:
//   1. the block decodes its MM_Y rows × MM_KS sub-blocks into shared memory (WSub: 8 ints of 4 int8 quants and the
//      factors), consecutive threads taking consecutive sub-blocks of a row (consecutive bytes);
//   2. it copies MM_X columns × MM_KS sub-blocks of q8_1 activations beside them (16-byte loads, a column's 128 bytes
//      by 8 consecutive threads);
//   3. thread (lane, warp) accumulates rows lane + 32i (i < MM_Y/32) × columns warp + MM_WARPS·j (j < MM_X/MM_WARPS):
//      the lanes of a warp read the same activation words (a shared-memory broadcast) and rows of the weight tile
//      padded to an odd word count, so the 32 lanes hit 32 banks (ggml's "K % 2 == 1 for dp4a" padding).
// The algebra per sub-block is mul_mv_q's: a.d·(w.d0·Σlo + w.d1·Σhi) + w.m·a.s, summed over sub-blocks in order.
// Rows past `rows` read the last row and columns past n the last column (valid memory, never written: ggml's
// need_check clamp); sub-blocks past K/32 count zero, so K need only be a multiple of 32.
//
// W:   packed rows, row r at W + r·row_bytes ([rows][K/QK] blocks)
// xq:  int8 activations [n][K] as ints ([n][K/4]), quantized by quantize_q8_1
// xd:  q8_1 block factors [n][K/32]: (d, s = d·Σq)
// out: [n][rows] floats (token-major, out[c·rows + r])
#include "quants.cuh"

#define MM_WARPS 4
#define MM_THREADS (32 * MM_WARPS)
#define MM_Y 64  // weight rows per tile
#define MM_X 64  // token columns per tile
#define MM_KS 4  // 32-element sub-blocks per K step (128 elements)

// ggml type ids (ggml.h enum ggml_type), as GgmlType.id on the host
enum { GT_Q4_0 = 2, GT_Q4_1 = 3, GT_Q5_0 = 6, GT_Q5_1 = 7, GT_Q8_0 = 8, GT_Q2_K = 10, GT_Q3_K = 11, GT_Q4_K = 12,
       GT_Q5_K = 13, GT_Q6_K = 14 };

struct MmTiles {
    int w_q[MM_Y][MM_KS * 8 + 1];  // weight quants, rows padded to an odd word count
    float w_d0[MM_KS][MM_Y], w_d1[MM_KS][MM_Y], w_m[MM_KS][MM_Y];
    float w_m0[MM_KS][MM_Y], w_m1[MM_KS][MM_Y];  // Q2_K: the min factor of each 16-half
    int4 x_q[MM_X][MM_KS * 2];                   // activation quants
    float2 x_d[MM_X][MM_KS];                     // their (d, s)
};

// Step 1 for block type T: sub-blocks s0 .. s0+MM_KS-1 of rows r0 .. r0+MM_Y-1.
template <typename T>
static __device__ __forceinline__ void mm_load_w(MmTiles &t, const uint8_t *__restrict__ W, long long row_bytes,
                                                 int rows, int r0, int s0, int nsub, int tid) {
    constexpr int SUBS = T::QK / 32;
#pragma unroll 1
    for (int i = tid; i < MM_Y * MM_KS; i += MM_THREADS) {
        const int r = i / MM_KS, s = i % MM_KS, sg = s0 + s;
        WSub w;
        float m0 = 0.0f, m1 = 0.0f;
        if (sg < nsub) {
            const uint8_t *blk = W + (long long) min(r0 + r, rows - 1) * row_bytes + (long long) (sg / SUBS) * T::BYTES;
            T::load(blk, sg % SUBS, w);
            if constexpr (MinsPer16<T>::value) T::load_mins(blk, sg % SUBS, m0, m1);
        } else {
#pragma unroll
            for (int j = 0; j < 8; j++) w.v[j] = 0;
            w.d0 = w.d1 = w.m = 0.0f;
        }
#pragma unroll
        for (int j = 0; j < 8; j++) t.w_q[r][8 * s + j] = w.v[j];
        t.w_d0[s][r] = w.d0;
        t.w_d1[s][r] = w.d1;
        t.w_m[s][r] = w.m;
        t.w_m0[s][r] = m0;
        t.w_m1[s][r] = m1;
    }
}

template <bool MINS>
static __device__ __forceinline__ void mul_mm_q(int type, const uint8_t *__restrict__ W, long long row_bytes,
                                                const int *__restrict__ xq, const float2 *__restrict__ xd,
                                                float *__restrict__ out, int rows, int n, int K) {
    constexpr int RPL = MM_Y / WARP_SIZE;  // rows per lane
    constexpr int CPW = MM_X / MM_WARPS;   // columns per warp
    __shared__ MmTiles t;

    const int lane = threadIdx.x, warp = threadIdx.y, tid = warp * WARP_SIZE + lane;
    const int r0 = blockIdx.x * MM_Y, c0 = blockIdx.y * MM_X;
    const int nsub = K / 32;
    float acc[RPL][CPW];
#pragma unroll
    for (int i = 0; i < RPL; i++)
#pragma unroll
        for (int j = 0; j < CPW; j++) acc[i][j] = 0.0f;

#pragma unroll 1
    for (int s0 = 0; s0 < nsub; s0 += MM_KS) {
        // 1. the weight tile, decoded by type
        if constexpr (MINS) {
            mm_load_w<TQ2_K>(t, W, row_bytes, rows, r0, s0, nsub, tid);
        } else {
            switch (type) {
                case GT_Q4_0: mm_load_w<TQ4_0>(t, W, row_bytes, rows, r0, s0, nsub, tid); break;
                case GT_Q4_1: mm_load_w<TQ4_1>(t, W, row_bytes, rows, r0, s0, nsub, tid); break;
                case GT_Q5_0: mm_load_w<TQ5_0>(t, W, row_bytes, rows, r0, s0, nsub, tid); break;
                case GT_Q5_1: mm_load_w<TQ5_1>(t, W, row_bytes, rows, r0, s0, nsub, tid); break;
                case GT_Q8_0: mm_load_w<TQ8_0>(t, W, row_bytes, rows, r0, s0, nsub, tid); break;
                case GT_Q3_K: mm_load_w<TQ3_K>(t, W, row_bytes, rows, r0, s0, nsub, tid); break;
                case GT_Q4_K: mm_load_w<TQ4_K>(t, W, row_bytes, rows, r0, s0, nsub, tid); break;
                case GT_Q5_K: mm_load_w<TQ5_K>(t, W, row_bytes, rows, r0, s0, nsub, tid); break;
                default:      mm_load_w<TQ6_K>(t, W, row_bytes, rows, r0, s0, nsub, tid); break;  // GT_Q6_K (host-checked)
            }
        }
        // 2. the activation tile: MM_X columns × MM_KS sub-blocks of 2 int4, and their factors
#pragma unroll 1
        for (int i = tid; i < MM_X * MM_KS * 2; i += MM_THREADS) {
            const int c = i / (MM_KS * 2), h = i % (MM_KS * 2), sg = s0 + h / 2;
            const long long col = min(c0 + c, n - 1);
            t.x_q[c][h] = sg < nsub ? reinterpret_cast<const int4 *>(xq + col * (K / 4))[2 * s0 + h] : make_int4(0, 0, 0, 0);
        }
#pragma unroll 1
        for (int i = tid; i < MM_X * MM_KS; i += MM_THREADS) {
            const int c = i / MM_KS, s = i % MM_KS, sg = s0 + s;
            const long long col = min(c0 + c, n - 1);
            t.x_d[c][s] = sg < nsub ? xd[col * nsub + sg] : make_float2(0.0f, 0.0f);
        }
        __syncthreads();

        // 3. the products of the tiles
#pragma unroll 1
        for (int s = 0; s < MM_KS; s++) {
            int wv[RPL][8];
            float d0[RPL], d1[RPL], wm[RPL], m0[RPL], m1[RPL];
#pragma unroll
            for (int i = 0; i < RPL; i++) {
                const int r = lane + WARP_SIZE * i;
#pragma unroll
                for (int j = 0; j < 8; j++) wv[i][j] = t.w_q[r][8 * s + j];
                d0[i] = t.w_d0[s][r];
                d1[i] = t.w_d1[s][r];
                wm[i] = t.w_m[s][r];
                m0[i] = MINS ? t.w_m0[s][r] : 0.0f;
                m1[i] = MINS ? t.w_m1[s][r] : 0.0f;
            }
#pragma unroll
            for (int j = 0; j < CPW; j++) {
                const int c = warp + MM_WARPS * j;
                const int4 a0 = t.x_q[c][2 * s], a1 = t.x_q[c][2 * s + 1];
                const float2 ds = t.x_d[c][s];
                int slo = 0, shi = 0;
                if constexpr (MINS) {  // Σ a.q of each 16-half (vecdotq.cuh q2_K: dp4a with 0x01010101)
                    slo = __dp4a(0x01010101, a0.w, __dp4a(0x01010101, a0.z, __dp4a(0x01010101, a0.y, __dp4a(0x01010101, a0.x, 0))));
                    shi = __dp4a(0x01010101, a1.w, __dp4a(0x01010101, a1.z, __dp4a(0x01010101, a1.y, __dp4a(0x01010101, a1.x, 0))));
                }
#pragma unroll
                for (int i = 0; i < RPL; i++) {
                    int lo = __dp4a(wv[i][0], a0.x, 0);
                    lo = __dp4a(wv[i][1], a0.y, lo);
                    lo = __dp4a(wv[i][2], a0.z, lo);
                    lo = __dp4a(wv[i][3], a0.w, lo);
                    int hi = __dp4a(wv[i][4], a1.x, 0);
                    hi = __dp4a(wv[i][5], a1.y, hi);
                    hi = __dp4a(wv[i][6], a1.z, hi);
                    hi = __dp4a(wv[i][7], a1.w, hi);
                    acc[i][j] += ds.x * (d0[i] * (float) lo + d1[i] * (float) hi) + wm[i] * ds.y;
                    if constexpr (MINS) acc[i][j] += ds.x * (m0[i] * (float) slo + m1[i] * (float) shi);
                }
            }
        }
        __syncthreads();  // the next step overwrites the tiles
    }

#pragma unroll
    for (int j = 0; j < CPW; j++) {
        const int c = c0 + warp + MM_WARPS * j;
        if (c >= n) break;
#pragma unroll
        for (int i = 0; i < RPL; i++) {
            const int r = r0 + lane + WARP_SIZE * i;
            if (r < rows) out[(long long) c * rows + r] = acc[i][j];
        }
    }
}

// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q3_K, Q4_K, Q5_K, Q6_K (type: the ggml id)
extern "C" __global__ void __launch_bounds__(MM_THREADS)
mul_mm_q_f32(int type, const uint8_t *W, long long row_bytes, const int *xq, const float2 *xd, float *out, int rows,
             int n, int K) {
    mul_mm_q<false>(type, W, row_bytes, xq, xd, out, rows, n, K);
}

extern "C" __global__ void __launch_bounds__(MM_THREADS)
mul_mm_q2_k_f32(const uint8_t *W, long long row_bytes, const int *xq, const float2 *xd, float *out, int rows, int n,
                int K) {
    mul_mm_q<true>(GT_Q2_K, W, row_bytes, xq, xd, out, rows, n, K);
}
