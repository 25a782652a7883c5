// RMSNorm fused with the weight multiply (ggml-cuda norm.cu rms_norm_f32 + the following mul):
// out[r][i] = x[r][i] · 1/sqrt(mean_i(x²) + eps) · w[i]. x, out: [rows][dim] (out may equal x); w: [dim].
// Launch: grid (rows), block 256 (multiple of 32).
#include "common.cuh"

extern "C" __global__ void rms_norm_f32(const float *__restrict__ x, const float *__restrict__ w, int dim, float eps,
                                        float *out) {
    __shared__ float partial[32];
    const long long base = (long long) blockIdx.x * dim;
    float sum = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        const float v = x[base + i];
        sum += v * v;
    }
    sum = warp_sum(sum);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) partial[warp] = sum;
    __syncthreads();
    if (warp == 0) {
        sum = lane < blockDim.x / 32 ? partial[lane] : 0.0f;
        sum = warp_sum(sum);
        if (lane == 0) partial[0] = sum;
    }
    __syncthreads();
    const float mean = partial[0] / (float) dim;
    const float scale = 1.0f / sqrtf(mean + eps);  // ggml CPU: 1.0f/sqrtf(mean + eps)
    for (int i = threadIdx.x; i < dim; i += blockDim.x) out[base + i] = x[base + i] * scale * w[i];
}
