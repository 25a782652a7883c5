// Mat-vec and small mat-mat (up to 8 token columns per launch) over packed weight rows
// (after ggml-cuda mmvq.cu mul_mat_vec_q and vecdotq.cuh: int8 dp4a against activations quantized to q8_1 blocks).
//
// Launch: grid (ceil(rows / MV_WARPS)), block (32, MV_WARPS). Warp w of block b computes row r = b·MV_WARPS + w for
// NC token columns; lane l takes the 32-element sub-blocks l, l+32, ... of the row, so the lanes of a warp read
// consecutive bytes of the row (coalesced). Each lane loads a weight sub-block once and uses it for all NC columns.
#pragma once
#include "quants.cuh"

#define MV_WARPS 4

// W:   packed rows, row r at W + r·row_bytes ([rows][K/QK] blocks)
// xq:  int8 activations [NC][K] as ints ([NC][K/4]), quantized by quantize_q8_1
// xd:  q8_1 block factors [NC][K/32]: (d, s = d·Σq)
// out: [NC][rows] floats (token-major, out[c·rows + r])
// Q8_0 and Q6_K (Coop<T>): four lanes per 32-quant sub-block, lane l reading quants 8(l%4) .. 8(l%4)+7 of sub-block
// l/4, l/4 + 8, ...: a warp's load covers 8 consecutive sub-blocks (272 contiguous bytes of Q8_0, a whole Q6_K block)
// instead of 32 lanes each walking its own block in 2-byte steps (ggml-cuda mmvq.cu / vecdotq.cuh: VDR_Q8_0_Q8_1_MMVQ
// = 2 ints a thread; vec_dot_q6_K_q8_1 reads one int of ql and qh per thread). Each lane adds
// a.d · (w.d · Σ dp4a) of its 8 quants; the caller's warp_sum adds the lanes.
template <typename T, int NC>
static __device__ __forceinline__ void mv_q_acc_coop(const uint8_t *__restrict__ wrow, const int *__restrict__ xq,
                                                     const float2 *__restrict__ xd, int K, float (&acc)[NC]) {
    const int part = threadIdx.x % 4;
    const int nsub = K / 32;
    constexpr int SUBS = T::QK / 32;
#pragma unroll
    for (int c = 0; c < NC; c++) acc[c] = 0.0f;
    for (int s = threadIdx.x / 4; s < nsub; s += WARP_SIZE / 4) {
        int v0, v1;
        float d;
        T::load_part(wrow + (s / SUBS) * T::BYTES, s % SUBS, part, v0, v1, d);
#pragma unroll
        for (int c = 0; c < NC; c++) {
            const int2 a = reinterpret_cast<const int2 *>(xq + (long long) c * (K / 4) + s * 8)[part];
            const int sumi = __dp4a(v1, a.y, __dp4a(v0, a.x, 0));
            acc[c] += xd[(long long) c * nsub + s].x * (d * (float) sumi);
        }
    }
}

// One warp's partial dot products of weight row wrow with NC activation columns: lane l adds the sub-blocks l, l+32, ...
// into acc[c] (the caller sums the lanes: warp_sum). Shared by mul_mv_q and the fused kernels (mul_mv_fused.cu), so a
// fused launch computes every row exactly as the plain one does.
template <typename T, int NC>
static __device__ __forceinline__ void mv_q_acc(const uint8_t *__restrict__ wrow, const int *__restrict__ xq,
                                                const float2 *__restrict__ xd, int K, float (&acc)[NC]) {
    if constexpr (Coop<T>::value) {
        mv_q_acc_coop<T, NC>(wrow, xq, xd, K, acc);
        return;
    }
    const int lane = threadIdx.x;
    const int nsub = K / 32;
    constexpr int SUBS = T::QK / 32;
#pragma unroll
    for (int c = 0; c < NC; c++) acc[c] = 0.0f;
    for (int s = lane; s < nsub; s += WARP_SIZE) {
        WSub w;
        T::load(wrow + (s / SUBS) * T::BYTES, s % SUBS, w);
        float m0 = 0.0f, m1 = 0.0f;
        if constexpr (MinsPer16<T>::value) T::load_mins(wrow + (s / SUBS) * T::BYTES, s % SUBS, m0, m1);
#pragma unroll
        for (int c = 0; c < NC; c++) {
            const int4 *a4 = reinterpret_cast<const int4 *>(xq + (long long) c * (K / 4) + s * 8);
            const int4 a0 = a4[0], a1 = a4[1];
            int lo = __dp4a(w.v[0], a0.x, 0);
            lo = __dp4a(w.v[1], a0.y, lo);
            lo = __dp4a(w.v[2], a0.z, lo);
            lo = __dp4a(w.v[3], a0.w, lo);
            int hi = __dp4a(w.v[4], a1.x, 0);
            hi = __dp4a(w.v[5], a1.y, hi);
            hi = __dp4a(w.v[6], a1.z, hi);
            hi = __dp4a(w.v[7], a1.w, hi);
            const float2 ds = xd[(long long) c * nsub + s];
            acc[c] += ds.x * (w.d0 * (float) lo + w.d1 * (float) hi) + w.m * ds.y;
            if constexpr (MinsPer16<T>::value) {  // Σ a.q of each 16-half times its min factor (vecdotq.cuh q2_K)
                int slo = __dp4a(0x01010101, a0.x, 0);
                slo = __dp4a(0x01010101, a0.y, slo);
                slo = __dp4a(0x01010101, a0.z, slo);
                slo = __dp4a(0x01010101, a0.w, slo);
                int shi = __dp4a(0x01010101, a1.x, 0);
                shi = __dp4a(0x01010101, a1.y, shi);
                shi = __dp4a(0x01010101, a1.z, shi);
                shi = __dp4a(0x01010101, a1.w, shi);
                acc[c] += ds.x * (m0 * (float) slo + m1 * (float) shi);
            }
        }
    }
}

template <typename T, int NC>
static __device__ __forceinline__ void mul_mv_q(const uint8_t *__restrict__ W, long long row_bytes,
                                                const int *__restrict__ xq, const float2 *__restrict__ xd,
                                                float *__restrict__ out, int rows, int K) {
    const int row = blockIdx.x * MV_WARPS + threadIdx.y;
    if (row >= rows) return;
    float acc[NC];
    mv_q_acc<T, NC>(W + (long long) row * row_bytes, xq, xd, K, acc);
#pragma unroll
    for (int c = 0; c < NC; c++) {
        const float v = warp_sum(acc[c]);
        if (threadIdx.x == 0) out[(long long) c * rows + row] = v;
    }
}

// Float weights (F32, F16, BF16) against float activations: lane l takes element pairs l, l+32, ... (K even).
// x: [NC][K] floats, out: [NC][rows].
template <typename T, int NC>
static __device__ __forceinline__ void mul_mv_f(const uint8_t *__restrict__ W, long long row_bytes,
                                                const float *__restrict__ x, float *__restrict__ out, int rows, int K) {
    const int row = blockIdx.x * MV_WARPS + threadIdx.y;
    if (row >= rows) return;
    const int lane = threadIdx.x;
    const uint8_t *wrow = W + (long long) row * row_bytes;
    float acc[NC];
#pragma unroll
    for (int c = 0; c < NC; c++) acc[c] = 0.0f;
    for (int p = lane; p < K / 2; p += WARP_SIZE) {
        const float2 w = T::get2(wrow, p);
#pragma unroll
        for (int c = 0; c < NC; c++) {
            const float2 a = reinterpret_cast<const float2 *>(x + (long long) c * K)[p];
            acc[c] += w.x * a.x + w.y * a.y;
        }
    }
#pragma unroll
    for (int c = 0; c < NC; c++) {
        const float v = warp_sum(acc[c]);
        if (lane == 0) out[(long long) c * rows + row] = v;
    }
}

// extern "C" entry points named mul_mv_<type>_f32_nc<NC> for NC in 1, 2, 4, 8 (the host splits a batch into these).
#define MUL_MV_Q_ENTRY(NAME, T, NC)                                                                               \
    extern "C" __global__ void __launch_bounds__(32 * MV_WARPS) NAME##_nc##NC(                                     \
        const uint8_t *W, long long row_bytes, const int *xq, const float2 *xd, float *out, int rows, int K) {     \
        mul_mv_q<T, NC>(W, row_bytes, xq, xd, out, rows, K);                                                      \
    }
#define MUL_MV_Q(NAME, T) MUL_MV_Q_ENTRY(NAME, T, 1) MUL_MV_Q_ENTRY(NAME, T, 2) MUL_MV_Q_ENTRY(NAME, T, 4) MUL_MV_Q_ENTRY(NAME, T, 8)

#define MUL_MV_F_ENTRY(NAME, T, NC)                                                                               \
    extern "C" __global__ void __launch_bounds__(32 * MV_WARPS) NAME##_nc##NC(                                     \
        const uint8_t *W, long long row_bytes, const float *x, float *out, int rows, int K) {                      \
        mul_mv_f<T, NC>(W, row_bytes, x, out, rows, K);                                                           \
    }
#define MUL_MV_F(NAME, T) MUL_MV_F_ENTRY(NAME, T, 1) MUL_MV_F_ENTRY(NAME, T, 2) MUL_MV_F_ENTRY(NAME, T, 4) MUL_MV_F_ENTRY(NAME, T, 8)
