// Fused mat-vec launches of the decode step, over q8_1 activations (quantized once, by the norm that produced them):
//   mul_mv3_q_nc<NC>:      up to three weight matrices on the same input in one grid (Q, K and V; FFN gate and up),
//                          each with its own type, row count and output; the weights stay separate tensors.
//   mul_mv_geglu_q_nc<NC>: gate and up rows of the same index in one warp, out = gelu_tanh(gate·x) · (up·x)
//                          (ggml-cuda mmvq.cu: mul_mat_vec_q with ggml_cuda_mm_fusion_args_device's gate and glu_op).
// Every row is computed by mv_q_acc (mul_mv.cuh) exactly as the plain mul_mv_<type>_f32 kernels compute it, so a fused
// launch gives the same floats; the type is a run-time switch per block (uniform: no divergence), ggml's type ids.
//
// xq: int8 activations [NC][K] (as ints), xd: q8_1 factors [NC][K/32]; W*: packed rows, row r at W + r·row_bytes;
// out*: [NC][rows] floats. Launch: block (32, MV_WARPS); mul_mv3: grid Σ ceil(rows_i / MV_WARPS) (a matrix with 0
// rows takes no blocks); geglu: grid ceil(rows / MV_WARPS).
#include "mul_mv.cuh"

// GGML type ids (ggml.h enum ggml_type) of the block types read here
#define GT_Q4_0 2
#define GT_Q4_1 3
#define GT_Q5_0 6
#define GT_Q5_1 7
#define GT_Q8_0 8
#define GT_Q2_K 10
#define GT_Q3_K 11
#define GT_Q4_K 12
#define GT_Q5_K 13
#define GT_Q6_K 14

template <int NC>
static __device__ __forceinline__ void mv_q_acc_type(int type, const uint8_t *__restrict__ wrow, const int *__restrict__ xq,
                                                     const float2 *__restrict__ xd, int K, float (&acc)[NC]) {
    switch (type) {
        case GT_Q4_0: mv_q_acc<TQ4_0, NC>(wrow, xq, xd, K, acc); break;
        case GT_Q4_1: mv_q_acc<TQ4_1, NC>(wrow, xq, xd, K, acc); break;
        case GT_Q5_0: mv_q_acc<TQ5_0, NC>(wrow, xq, xd, K, acc); break;
        case GT_Q5_1: mv_q_acc<TQ5_1, NC>(wrow, xq, xd, K, acc); break;
        case GT_Q8_0: mv_q_acc<TQ8_0, NC>(wrow, xq, xd, K, acc); break;
        case GT_Q2_K: mv_q_acc<TQ2_K, NC>(wrow, xq, xd, K, acc); break;
        case GT_Q3_K: mv_q_acc<TQ3_K, NC>(wrow, xq, xd, K, acc); break;
        case GT_Q4_K: mv_q_acc<TQ4_K, NC>(wrow, xq, xd, K, acc); break;
        case GT_Q5_K: mv_q_acc<TQ5_K, NC>(wrow, xq, xd, K, acc); break;
        case GT_Q6_K: mv_q_acc<TQ6_K, NC>(wrow, xq, xd, K, acc); break;
        default:  // the host passes only the types above; a NaN makes any other visible
#pragma unroll
            for (int c = 0; c < NC; c++) acc[c] = __uint_as_float(0x7fc00000u);
    }
}

template <int NC>
static __device__ __forceinline__ void mul_mv3_q(const int *__restrict__ xq, const float2 *__restrict__ xd, int K,
                                                 const uint8_t *W0, long long rb0, int t0, int r0, float *o0,
                                                 const uint8_t *W1, long long rb1, int t1, int r1, float *o1,
                                                 const uint8_t *W2, long long rb2, int t2, int r2, float *o2) {
    const int nb0 = (r0 + MV_WARPS - 1) / MV_WARPS, nb1 = (r1 + MV_WARPS - 1) / MV_WARPS;
    int blk = blockIdx.x;
    const uint8_t *W = W0;
    long long rb = rb0;
    int type = t0, rows = r0;
    float *out = o0;
    if (blk >= nb0 + nb1) {
        blk -= nb0 + nb1; W = W2; rb = rb2; type = t2; rows = r2; out = o2;
    } else if (blk >= nb0) {
        blk -= nb0; W = W1; rb = rb1; type = t1; rows = r1; out = o1;
    }
    const int row = blk * MV_WARPS + threadIdx.y;
    if (row >= rows) return;
    float acc[NC];
    mv_q_acc_type<NC>(type, W + (long long) row * rb, xq, xd, K, acc);
#pragma unroll
    for (int c = 0; c < NC; c++) {
        const float v = warp_sum(acc[c]);
        if (threadIdx.x == 0) out[(long long) c * rows + row] = v;
    }
}

template <int NC>
static __device__ __forceinline__ void mul_mv_geglu_q(const int *__restrict__ xq, const float2 *__restrict__ xd, int K,
                                                      const uint8_t *Wg, long long rbg, int tg, const uint8_t *Wu,
                                                      long long rbu, int tu, int rows, float *__restrict__ out) {
    const int row = blockIdx.x * MV_WARPS + threadIdx.y;
    if (row >= rows) return;
    float g[NC], u[NC];
#pragma unroll 1
    for (int m = 0; m < 2; m++) {  // gate, then up: one inlined copy of the type switch instead of two (half the PTX)
        float t[NC];
        mv_q_acc_type<NC>(m == 0 ? tg : tu, m == 0 ? Wg + (long long) row * rbg : Wu + (long long) row * rbu, xq, xd, K, t);
#pragma unroll
        for (int c = 0; c < NC; c++) {
            if (m == 0) g[c] = t[c];
            else u[c] = t[c];
        }
    }
#pragma unroll
    for (int c = 0; c < NC; c++) {
        const float gs = warp_sum(g[c]), us = warp_sum(u[c]);
        if (threadIdx.x == 0) out[(long long) c * rows + row] = gelu_tanh_mul(gs, us);
    }
}

#define MUL_MV3_ENTRY(NC)                                                                                           \
    extern "C" __global__ void __launch_bounds__(32 * MV_WARPS) mul_mv3_q_nc##NC(                                    \
        const int *xq, const float2 *xd, int K, const uint8_t *W0, long long rb0, int t0, int r0, float *o0,         \
        const uint8_t *W1, long long rb1, int t1, int r1, float *o1, const uint8_t *W2, long long rb2, int t2,       \
        int r2, float *o2) {                                                                                        \
        mul_mv3_q<NC>(xq, xd, K, W0, rb0, t0, r0, o0, W1, rb1, t1, r1, o1, W2, rb2, t2, r2, o2);                   \
    }
#define MUL_MV_GEGLU_ENTRY(NC)                                                                                      \
    extern "C" __global__ void __launch_bounds__(32 * MV_WARPS) mul_mv_geglu_q_nc##NC(                               \
        const int *xq, const float2 *xd, int K, const uint8_t *Wg, long long rbg, int tg, const uint8_t *Wu,         \
        long long rbu, int tu, int rows, float *out) {                                                             \
        mul_mv_geglu_q<NC>(xq, xd, K, Wg, rbg, tg, Wu, rbu, tu, rows, out);                                          \
    }

MUL_MV3_ENTRY(1) MUL_MV3_ENTRY(2) MUL_MV3_ENTRY(4) MUL_MV3_ENTRY(8)
MUL_MV_GEGLU_ENTRY(1) MUL_MV_GEGLU_ENTRY(2) MUL_MV_GEGLU_ENTRY(4) MUL_MV_GEGLU_ENTRY(8)
