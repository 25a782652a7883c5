// NeoX RoPE in place (ggml-cuda rope.cu rope_neox with ext_factor = 0, attn_factor = 1): element i is paired with
// i + head_dim/2; theta = freq_scale · pos · theta_scale^i with theta_scale = base^(-2/head_dim) computed on the host
// (as ggml does: powf(freq_base, -2.0f/n_dims)), the power taken by repeated multiplication as ggml-cpu ops.cpp
// rope_cache_init does.
// x: [n][n_heads][head_dim]; positions: [n] ints read on the device (so a captured step can be replayed).
// Launch: grid (n·n_heads), block head_dim/2.
#include "common.cuh"

extern "C" __global__ void rope_neox_f32(float *x, const int *__restrict__ positions, int n_heads, int head_dim,
                                         float theta_scale, float freq_scale) {
    const int i = threadIdx.x;
    const int half_dim = head_dim / 2;
    if (i >= half_dim) return;
    const int t = blockIdx.x / n_heads;
    float *h = x + (long long) blockIdx.x * head_dim;
    // theta_i = pos · theta_scale^i as ggml-cpu's rope_cache_init computes it: one float multiply per pair, in order
    // (ggml-cuda's powf(theta_scale, i) rounds differently: at position 40000 the angles differ by ~1.5e-4 rad, as
    // much as the float angle's own precision there, so follow the CPU reference the fixtures come from)
    float theta_base = (float) positions[t];
    for (int j = 0; j < i; j++) theta_base *= theta_scale;
    const float theta = freq_scale * theta_base;
    const float c = cosf(theta), s = sinf(theta);
    const float x0 = h[i], x1 = h[i + half_dim];
    h[i] = x0 * c - x1 * s;
    h[i + half_dim] = x0 * s + x1 * c;
}
