// Gemma 3's attention input after the Q/K/V projections in one launch: per-head RMSNorm of Q and K (rms_norm_f32 with
// the q_norm / k_norm weights), NeoX RoPE of both (rope_neox_f32), and the K/V append into the f16 cache
// (kv_append_f16). Each block is one head of one token, its steps in the order of those three kernels and with the same
// arithmetic, so the results equal theirs bit for bit (ggml-cuda fuses the rope with the following set_rows into the
// cache likewise: rope.cu ggml_cuda_op_rope_fused).
//
// q: [n][n_head][D], k: [n][n_kv_head][D] floats, normed and rotated in place; v: [n][n_kv_head][D] floats;
// q_w, k_w: [D]; positions: [n] ints read on the device; kc, vc: [slots][n_kv_head·D] halves, written only if append.
// Launch: grid (n_head + n_kv_head, n), block normBlock(D) (a multiple of 32; blocks ≥ n_head are K heads).
#include "common.cuh"

extern "C" __global__ void qk_norm_rope_kv_f32(float *__restrict__ q, float *__restrict__ k, const float *__restrict__ v,
                                               const float *__restrict__ q_w, const float *__restrict__ k_w,
                                               const int *__restrict__ positions, int n_head, int n_kv_head, int D,
                                               float eps, float theta_scale, float freq_scale, __half *__restrict__ kc,
                                               __half *__restrict__ vc, int slots, int append) {
    __shared__ float partial[32];
    const int hh = blockIdx.x, t = blockIdx.y;
    const bool is_q = hh < n_head;
    const int kvh = hh - n_head;
    float *h = is_q ? q + ((long long) t * n_head + hh) * D : k + ((long long) t * n_kv_head + kvh) * D;
    const float *w = is_q ? q_w : k_w;

    // RMSNorm of the head (rms_norm_f32)
    float sum = 0.0f;
    for (int i = threadIdx.x; i < D; i += blockDim.x) {
        const float x = h[i];
        sum += x * x;
    }
    const float scale = 1.0f / sqrtf(block_sum(sum, partial) / (float) D + eps);
    for (int i = threadIdx.x; i < D; i += blockDim.x) h[i] = h[i] * scale * w[i];
    __syncthreads();  // the pairs below are other threads' elements

    // NeoX RoPE (rope_neox_f32: theta_i = pos · theta_scale^i by repeated multiplication, as ggml-cpu's rope cache)
    const int half_dim = D / 2;
    const int pos = positions[t];
    const long long kv_dim = (long long) n_kv_head * D;
    const long long slot = (long long) (pos % slots);
    for (int i = threadIdx.x; i < half_dim; i += blockDim.x) {
        float theta_base = (float) pos;
        for (int j = 0; j < i; j++) theta_base *= theta_scale;
        const float theta = freq_scale * theta_base;
        const float c = cosf(theta), s = sinf(theta);
        const float x0 = h[i], x1 = h[i + half_dim];
        const float r0 = x0 * c - x1 * s, r1 = x0 * s + x1 * c;
        h[i] = r0;
        h[i + half_dim] = r1;
        if (!is_q && append) {  // kv_append_f16 of this head's K
            kc[slot * kv_dim + (long long) kvh * D + i] = __float2half(r0);
            kc[slot * kv_dim + (long long) kvh * D + i + half_dim] = __float2half(r1);
        }
    }
    if (!is_q && append) {  // and of its V
        const float *vh = v + (long long) t * kv_dim + (long long) kvh * D;
        for (int i = threadIdx.x; i < D; i += blockDim.x) vc[slot * kv_dim + (long long) kvh * D + i] = __float2half(vh[i]);
    }
}
