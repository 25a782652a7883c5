// Non-causal attention over the f16 KV cache: the image chunk of a Gemma 3 vision prompt (Backend.attentionNonCausal).
// llama.cpp decodes that chunk with causal attention off (tools/mtmd/mtmd-helper.cpp :: mtmd_helper_decode_image_chunk
// calls llama_set_causal_attn(false)); src/llama-kv-cache.cpp :: set_input_kq_mask then masks only the sliding window,
// measured from the query's own position (llama_hparams::is_masked_swa: masked iff p - p' >= n_swa).
//
// Query t (position p = positions[t]) of head h reads KV head h / (n_head / n_kv_head) and sees the key positions
// p' in [lo, last] with last = max(p, horizon) (horizon < 0: causal), lo = max(0, p − window + 1) when window > 0 else 0,
// and never older than last − slots + 1 (those slots hold newer keys); key position p' lives in slot p' % slots.
// The same range as the CPU backend (AttentionTask) and the reference backend. Scores are scale·(q·k).
//
// q: [n][n_head][D] floats;  kc, vc: [slots][kv_dim] halves (kv_dim = n_kv_head·D);  out: [n][n_head][D] floats.
// D must be a multiple of 64 and at most 256 (checked by the host, Launch.checkAttentionShape): lane l holds the element
// pairs l, l+32, ... of the head. One block per (head, query), NC_WARPS warps taking every NC_WARPS-th key with an online
// softmax each (after ggml-cuda fattn-vec.cuh), merged through shared memory at the end. An image chunk has at most a few
// hundred queries, so the grid (n_head, n) fills the device without splitting the key range.
#include "common.cuh"

#define NC_WARPS 4
#define NC_MAX_PAIRS 4  // D/64 ≤ 4

// Launch: grid (n_head, n), block (32, NC_WARPS).
extern "C" __global__ void __launch_bounds__(32 * NC_WARPS)
attn_non_causal_f16(const float *__restrict__ q, const __half *__restrict__ kc, const __half *__restrict__ vc,
                    const int *__restrict__ positions, int n_head, int n_kv_head, int D, int slots, int window,
                    int horizon, float scale, float *__restrict__ out) {
    __shared__ float sh_m[NC_WARPS], sh_s[NC_WARPS];
    __shared__ float2 sh_acc[NC_WARPS][128];  // D/2 ≤ 128 pairs per warp

    const int h = blockIdx.x, t = blockIdx.y;
    const int lane = threadIdx.x, warp = threadIdx.y;
    const int pairs = D / 64;  // pairs per lane
    const int kv_dim = n_kv_head * D;
    const int kvh = h / (n_head / n_kv_head);

    const int p = positions[t];
    const int last = max(p, horizon);
    int lo = window > 0 ? max(0, p - window + 1) : 0;
    lo = max(lo, last - slots + 1);

    const float2 *q2 = reinterpret_cast<const float2 *>(q + ((long long) t * n_head + h) * D);
    float2 qv[NC_MAX_PAIRS], acc[NC_MAX_PAIRS];
#pragma unroll
    for (int j = 0; j < NC_MAX_PAIRS; j++) {
        qv[j] = j < pairs ? q2[j * 32 + lane] : make_float2(0.0f, 0.0f);
        acc[j] = make_float2(0.0f, 0.0f);
    }
    float m = -INFINITY, s = 0.0f;

    for (int kp = lo + warp; kp <= last; kp += NC_WARPS) {
        const long long off = (long long) (kp % slots) * kv_dim + (long long) kvh * D;
        const __half2 *k2 = reinterpret_cast<const __half2 *>(kc + off);
        float dot = 0.0f;
#pragma unroll
        for (int j = 0; j < NC_MAX_PAIRS; j++) {
            if (j < pairs) {
                const float2 kf = __half22float2(k2[j * 32 + lane]);
                dot += qv[j].x * kf.x + qv[j].y * kf.y;
            }
        }
        dot = scale * warp_sum(dot);
        const float m_new = fmaxf(m, dot);
        const float corr = expf(m - m_new);  // m = −inf on the warp's first key: corr = 0
        const float e = expf(dot - m_new);
        s = s * corr + e;
        const __half2 *v2 = reinterpret_cast<const __half2 *>(vc + off);
#pragma unroll
        for (int j = 0; j < NC_MAX_PAIRS; j++) {
            if (j < pairs) {
                const float2 vf = __half22float2(v2[j * 32 + lane]);
                acc[j].x = acc[j].x * corr + e * vf.x;
                acc[j].y = acc[j].y * corr + e * vf.y;
            }
        }
        m = m_new;
    }

    // merge the warps: out = Σ_w e^(m_w − M)·acc_w / Σ_w e^(m_w − M)·s_w (a warp with no key has m = −inf, weight 0)
    if (lane == 0) { sh_m[warp] = m; sh_s[warp] = s; }
#pragma unroll
    for (int j = 0; j < NC_MAX_PAIRS; j++) if (j < pairs) sh_acc[warp][j * 32 + lane] = acc[j];
    __syncthreads();
    float M = -INFINITY;
#pragma unroll
    for (int w = 0; w < NC_WARPS; w++) M = fmaxf(M, sh_m[w]);
    float f[NC_WARPS];
    float S = 0.0f;
#pragma unroll
    for (int w = 0; w < NC_WARPS; w++) {
        f[w] = sh_m[w] == -INFINITY ? 0.0f : expf(sh_m[w] - M);
        S += f[w] * sh_s[w];
    }
    const float inv = 1.0f / S;
    float2 *out2 = reinterpret_cast<float2 *>(out + ((long long) t * n_head + h) * D);
    for (int i = warp * 32 + lane; i < D / 2; i += 32 * NC_WARPS) {
        float2 a = make_float2(0.0f, 0.0f);
#pragma unroll
        for (int w = 0; w < NC_WARPS; w++) {
            a.x += f[w] * sh_acc[w][i].x;
            a.y += f[w] * sh_acc[w][i].y;
        }
        out2[i] = make_float2(a.x * inv, a.y * inv);
    }
}
