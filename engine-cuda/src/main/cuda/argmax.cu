// Greedy sampling: out[r] = argmax_j x[r][j], lowest index on ties (ggml-cuda argmax.cu, with an explicit tie rule).
// Launch: grid (rows), block 1024. x: [rows][dim]; out: [rows] ints.
#include "common.cuh"

static __device__ __forceinline__ void better(float &v, int &i, float ov, int oi) {
    if (ov > v || (ov == v && oi < i)) { v = ov; i = oi; }
}

extern "C" __global__ void argmax_f32(const float *__restrict__ x, int dim, int *out) {
    __shared__ float sv[32];
    __shared__ int si[32];
    const float *row = x + (long long) blockIdx.x * dim;
    float v = -INFINITY;
    int idx = 0x7fffffff;
    for (int j = threadIdx.x; j < dim; j += blockDim.x) better(v, idx, row[j], j);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const float ov = __shfl_xor_sync(0xffffffffu, v, o);
        const int oi = __shfl_xor_sync(0xffffffffu, idx, o);
        better(v, idx, ov, oi);
    }
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) { sv[warp] = v; si[warp] = idx; }
    __syncthreads();
    if (warp == 0) {
        v = lane < blockDim.x / 32 ? sv[lane] : -INFINITY;
        idx = lane < blockDim.x / 32 ? si[lane] : 0x7fffffff;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            const float ov = __shfl_xor_sync(0xffffffffu, v, o);
            const int oi = __shfl_xor_sync(0xffffffffu, idx, o);
            better(v, idx, ov, oi);
        }
        if (lane == 0) out[blockIdx.x] = idx == 0x7fffffff ? 0 : idx;
    }
}
