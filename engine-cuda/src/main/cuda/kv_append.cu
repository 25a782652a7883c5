// KV cache append: rows of K and V ([n][kv_dim] floats) go to slot positions[t] % slots of the f16 caches
// ([slots][kv_dim]), as llama.cpp's default F16 cache stores them (ggml-cuda set_rows / cpy f32->f16).
// Launch: grid (ceil(kv_dim/256), n), block 256.
#include "common.cuh"

extern "C" __global__ void kv_append_f16(const float *__restrict__ k, const float *__restrict__ v,
                                         const int *__restrict__ positions, int kv_dim, int slots,
                                         __half *kc, __half *vc) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    const int t = blockIdx.y;
    if (i >= kv_dim) return;
    const long long slot = positions[t] % slots;
    kc[slot * kv_dim + i] = __float2half(k[(long long) t * kv_dim + i]);
    vc[slot * kv_dim + i] = __float2half(v[(long long) t * kv_dim + i]);
}
