// Element-wise ops over long vectors (ggml-cuda unary.cu / binbcast.cu / cpy.cu, without broadcasting).
// Launch: grid (ceil(n/256)) capped at 65535·k with a grid-stride loop, block 256.
#include "common.cuh"

#define GRID_STRIDE(i, n) for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long) gridDim.x * blockDim.x)

// out[i] = gelu_tanh(gate[i]) · up[i] (ggml_gelu_f32; GPU backends compute it in f32). out may equal gate.
extern "C" __global__ void geglu_f32(const float *gate, const float *__restrict__ up, float *out, long long n) {
    GRID_STRIDE(i, n) {
        out[i] = gelu_tanh_mul(gate[i], up[i]);
    }
}

// acc[i] += x[i]
extern "C" __global__ void add_f32(float *acc, const float *__restrict__ x, long long n) {
    GRID_STRIDE(i, n) acc[i] += x[i];
}

// x[i] = cap · tanh(x[i] / cap)
extern "C" __global__ void softcap_f32(float *x, float cap, long long n) {
    GRID_STRIDE(i, n) x[i] = cap * tanhf(x[i] / cap);
}

// dst[i] = src[i] (offsets applied by the host); buffers may overlap only if dst == src
extern "C" __global__ void copy_f32(const float *src, float *dst, long long n) {
    GRID_STRIDE(i, n) dst[i] = src[i];
}
