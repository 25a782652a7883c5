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

// rms_norm_f32 with the q8_1 quantization of its output folded in (the mat-vec that reads out next then skips its own
// quantize_q8_1 launch): out as rms_norm_f32 computes it, and qs/ds as quantize_q8_1 would make them from out, bit for
// bit (same reduction order, same quantize_group_q8_1). dim must be a multiple of 32 (the host checks).
// x, out: [rows][dim] (out may equal x); qs: int8 [rows][dim]; ds: float2 [rows][dim/32]. Launch: as rms_norm_f32.
extern "C" __global__ void rms_norm_q8_f32(const float *__restrict__ x, const float *__restrict__ w, int dim, float eps,
                                           float *out, int8_t *__restrict__ qs, float2 *__restrict__ ds) {
    __shared__ float partial[32];
    const long long base = (long long) blockIdx.x * dim;
    float sum = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        const float v = x[base + i];
        sum += v * v;
    }
    const float mean = block_sum(sum, partial) / (float) dim;
    const float scale = 1.0f / sqrtf(mean + eps);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, nwarps = blockDim.x / 32;
    for (int g = warp; g < dim / 32; g += nwarps) {  // a warp per 32-element group: one q8_1 block
        const int i = 32 * g + lane;
        const float v = x[base + i] * scale * w[i];
        out[base + i] = v;
        quantize_group_q8_1(v, qs + base + 32 * g, ds + base / 32 + g);
    }
}

// Gemma 3's sandwich-norm residual step in one launch (what rms_norm_f32 in place, add_f32 and rms_norm_f32 compute,
// in the same order, so the results are equal bit for bit):
//   a = rmsnorm(a)·w_post;  x += a;  if (has_next) out = rmsnorm(x)·w_next, quantized to q8_1 into qs/ds.
// a, x, out: [rows][dim]; w_post, w_next: [dim]; qs: int8 [rows][dim]; ds: float2 [rows][dim/32]. Without has_next,
// w_next/out/qs/ds are not touched (the host passes other live pointers). dim a multiple of 32 when has_next.
// Launch: grid (rows), block normBlock(dim) (a multiple of 32).
extern "C" __global__ void rms_norm_add_norm_q8_f32(float *__restrict__ a, const float *__restrict__ w_post,
                                                    float *__restrict__ x, const float *__restrict__ w_next, int dim,
                                                    float eps, float *__restrict__ out, int8_t *__restrict__ qs,
                                                    float2 *__restrict__ ds, int has_next) {
    __shared__ float partial[32];
    const long long base = (long long) blockIdx.x * dim;
    float sum = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        const float v = a[base + i];
        sum += v * v;
    }
    const float scale_a = 1.0f / sqrtf(block_sum(sum, partial) / (float) dim + eps);
    float sum_x = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        const float an = a[base + i] * scale_a * w_post[i];
        a[base + i] = an;
        const float xi = x[base + i] + an;
        x[base + i] = xi;
        sum_x += xi * xi;
    }
    if (!has_next) return;
    const float scale_x = 1.0f / sqrtf(block_sum(sum_x, partial) / (float) dim + eps);  // after its barriers x is complete
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, nwarps = blockDim.x / 32;
    for (int g = warp; g < dim / 32; g += nwarps) {
        const int i = 32 * g + lane;
        const float v = x[base + i] * scale_x * w_next[i];
        out[base + i] = v;
        quantize_group_q8_1(v, qs + base + 32 * g, ds + base / 32 + g);
    }
}
