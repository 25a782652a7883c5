// Tiled mat-mat of float weights (F32, F16, BF16) and f32 activations for prompt chunks (more than 8 token columns),
// float accumulation: the tiling of mul_mm_q_f32.cu (64 rows × 64 tokens a block, ggml-cuda mmq.cuh's shape) with
// MM_FK elements per K step; ggml itself hands float weights to cuBLAS, which this project does not link. The type
// (its ggml id) only changes how the weight tile is converted to float, so one kernel serves all three.
//
// Launch: grid (ceil(rows / MM_Y), ceil(n / MM_X)), block (32, MM_WARPS); thread (lane, warp) accumulates rows
// lane + 32i × columns warp + MM_WARPS·j, the weight tile padded to an odd word count per row (no bank conflicts).
// Rows past `rows` and columns past n read the last one (never written); K must be even (element pairs).
// W: [rows] rows of row_bytes; x: [n][K] floats; out: [n][rows] floats (token-major).
#include "quants.cuh"

#define MM_WARPS 4
#define MM_THREADS (32 * MM_WARPS)
#define MM_Y 64
#define MM_X 64
#define MM_FK 32  // elements per K step

enum { GT_F32 = 0, GT_F16 = 1, GT_BF16 = 30 };

struct MfTiles {
    float w[MM_Y][MM_FK + 1];   // weight rows, padded
    float2 x[MM_X][MM_FK / 2];  // activation pairs
};

template <typename T>
static __device__ __forceinline__ void mf_load_w(MfTiles &t, const uint8_t *__restrict__ W, long long row_bytes,
                                                 int rows, int r0, int p0, int npairs, int tid) {
    constexpr int PK = MM_FK / 2;
#pragma unroll 1
    for (int i = tid; i < MM_Y * PK; i += MM_THREADS) {
        const int r = i / PK, p = i % PK;
        const float2 w = p0 + p < npairs ? T::get2(W + (long long) min(r0 + r, rows - 1) * row_bytes, p0 + p)
                                         : make_float2(0.0f, 0.0f);
        t.w[r][2 * p] = w.x;
        t.w[r][2 * p + 1] = w.y;
    }
}

extern "C" __global__ void __launch_bounds__(MM_THREADS)
mul_mm_f_f32(int type, const uint8_t *__restrict__ W, long long row_bytes, const float *__restrict__ x,
             float *__restrict__ out, int rows, int n, int K) {
    constexpr int RPL = MM_Y / WARP_SIZE, CPW = MM_X / MM_WARPS, PK = MM_FK / 2;
    __shared__ MfTiles t;

    const int lane = threadIdx.x, warp = threadIdx.y, tid = warp * WARP_SIZE + lane;
    const int r0 = blockIdx.x * MM_Y, c0 = blockIdx.y * MM_X;
    const int npairs = K / 2;
    float acc[RPL][CPW];
#pragma unroll
    for (int i = 0; i < RPL; i++)
#pragma unroll
        for (int j = 0; j < CPW; j++) acc[i][j] = 0.0f;

#pragma unroll 1
    for (int p0 = 0; p0 < npairs; p0 += PK) {
        switch (type) {
            case GT_F16: mf_load_w<TF16>(t, W, row_bytes, rows, r0, p0, npairs, tid); break;
            case GT_BF16: mf_load_w<TBF16>(t, W, row_bytes, rows, r0, p0, npairs, tid); break;
            default: mf_load_w<TF32>(t, W, row_bytes, rows, r0, p0, npairs, tid); break;  // GT_F32 (host-checked)
        }
#pragma unroll 1
        for (int i = tid; i < MM_X * PK; i += MM_THREADS) {
            const int c = i / PK, p = i % PK;
            const long long col = min(c0 + c, n - 1);
            t.x[c][p] = p0 + p < npairs ? reinterpret_cast<const float2 *>(x + col * K)[p0 + p] : make_float2(0.0f, 0.0f);
        }
        __syncthreads();
#pragma unroll 1
        for (int p = 0; p < PK; p++) {
            float w0[RPL], w1[RPL];
#pragma unroll
            for (int i = 0; i < RPL; i++) {
                w0[i] = t.w[lane + WARP_SIZE * i][2 * p];
                w1[i] = t.w[lane + WARP_SIZE * i][2 * p + 1];
            }
#pragma unroll
            for (int j = 0; j < CPW; j++) {
                const float2 a = t.x[warp + MM_WARPS * j][p];
#pragma unroll
                for (int i = 0; i < RPL; i++) acc[i][j] += w0[i] * a.x + w1[i] * a.y;
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
