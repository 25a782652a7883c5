// Flash-decoding attention over the f16 KV cache (after ggml-cuda fattn-vec.cuh + fattn-common.cuh
// flash_attn_combine_results): the key range of each query is split into chunks processed by independent blocks with
// an online softmax; a second kernel merges the partial results. Works for decode (n = 1) and prefill (n > 1).
//
// Query t (position p = positions[t]) of head h reads KV head h / (n_head / n_kv_head) and sees key positions
// p' in [lo, p] with lo = max(0, p − span + 1), span = min(window, slots) on sliding-window layers (window > 0) and
// slots otherwise; key position p' lives in cache slot p' % slots. Scores are scale·(q·k) (llama.cpp kq_scale).
//
// q:        [n][n_head][D] floats;  kc, vc: [slots][kv_dim] halves (kv_dim = n_kv_head·D)
// part_acc: [n][n_head][nsplit][D] unnormalised Σ e^(s − m)·v of each split
// part_ms:  [n][n_head][nsplit] (m, Σ e^(s − m)) of each split (m = −inf for an empty split)
// D must be a multiple of 64 and at most 256 (checked by the host): lane l holds element pairs l, l+32, ...
#include "common.cuh"

#define FA_WARPS 4
#define FA_MAX_PAIRS 4  // D/64 ≤ 4

// Launch: grid (nsplit, n_head, n), block (32, FA_WARPS). Split s covers key positions [lo + s·chunk, lo + (s+1)·chunk)
// ∩ [lo, p], chunk = max(min_chunk, ceil((p − lo + 1) / nsplit)).
extern "C" __global__ void __launch_bounds__(32 * FA_WARPS)
flash_attn_split_f16(const float *__restrict__ q, const __half *__restrict__ kc, const __half *__restrict__ vc,
                     const int *__restrict__ positions, int n_head, int n_kv_head, int D, int slots, int window,
                     int min_chunk, float scale, float *__restrict__ part_acc, float2 *__restrict__ part_ms) {
    __shared__ float sh_m[FA_WARPS], sh_s[FA_WARPS];
    __shared__ float2 sh_acc[FA_WARPS][128];  // D/2 ≤ 128 pairs per warp

    const int split = blockIdx.x, h = blockIdx.y, t = blockIdx.z, nsplit = gridDim.x;
    const int lane = threadIdx.x, warp = threadIdx.y;
    const int pairs = D / 64;  // pairs per lane
    const int kv_dim = n_kv_head * D;
    const int kvh = h / (n_head / n_kv_head);

    const int p = positions[t];
    const int span = window > 0 ? min(window, slots) : slots;
    const int lo = max(0, p - span + 1);
    // the nsplit blocks share the keys [lo, p] of this query evenly, at least min_chunk each (splits past p are empty):
    // computed from the position read here, so a recorded step splits each new position's keys evenly when replayed
    const int chunk = max(min_chunk, (p - lo + nsplit) / nsplit);
    const int start = lo + split * chunk;
    const int end = min(p + 1, start + chunk);  // exclusive

    const float2 *q2 = reinterpret_cast<const float2 *>(q + ((long long) t * n_head + h) * D);
    float2 qv[FA_MAX_PAIRS], acc[FA_MAX_PAIRS];
#pragma unroll
    for (int j = 0; j < FA_MAX_PAIRS; j++) {
        qv[j] = j < pairs ? q2[j * 32 + lane] : make_float2(0.0f, 0.0f);
        acc[j] = make_float2(0.0f, 0.0f);
    }
    float m = -INFINITY, s = 0.0f;

    for (int kp = start + warp; kp < end; kp += FA_WARPS) {
        const long long off = (long long) (kp % slots) * kv_dim + (long long) kvh * D;
        const __half2 *k2 = reinterpret_cast<const __half2 *>(kc + off);
        float dot = 0.0f;
#pragma unroll
        for (int j = 0; j < FA_MAX_PAIRS; j++) {
            if (j < pairs) {
                const float2 kf = __half22float2(k2[j * 32 + lane]);
                dot += qv[j].x * kf.x + qv[j].y * kf.y;
            }
        }
        dot = scale * warp_sum(dot);
        const float m_new = fmaxf(m, dot);
        const float corr = expf(m - m_new);  // m = −inf on the first key: corr = 0
        const float e = expf(dot - m_new);
        s = s * corr + e;
        const __half2 *v2 = reinterpret_cast<const __half2 *>(vc + off);
#pragma unroll
        for (int j = 0; j < FA_MAX_PAIRS; j++) {
            if (j < pairs) {
                const float2 vf = __half22float2(v2[j * 32 + lane]);
                acc[j].x = acc[j].x * corr + e * vf.x;
                acc[j].y = acc[j].y * corr + e * vf.y;
            }
        }
        m = m_new;
    }

    // merge the warps of this block
    if (lane == 0) { sh_m[warp] = m; sh_s[warp] = s; }
#pragma unroll
    for (int j = 0; j < FA_MAX_PAIRS; j++) if (j < pairs) sh_acc[warp][j * 32 + lane] = acc[j];
    __syncthreads();
    float M = -INFINITY;
#pragma unroll
    for (int w = 0; w < FA_WARPS; w++) M = fmaxf(M, sh_m[w]);
    float f[FA_WARPS];
    float S = 0.0f;
#pragma unroll
    for (int w = 0; w < FA_WARPS; w++) {
        f[w] = M == -INFINITY ? 0.0f : expf(sh_m[w] - M);
        S += f[w] * sh_s[w];
    }
    const long long part = ((long long) t * n_head + h) * nsplit + split;
    float2 *out2 = reinterpret_cast<float2 *>(part_acc + part * D);
    for (int i = warp * 32 + lane; i < D / 2; i += 32 * FA_WARPS) {
        float2 a = make_float2(0.0f, 0.0f);
#pragma unroll
        for (int w = 0; w < FA_WARPS; w++) {
            a.x += f[w] * sh_acc[w][i].x;
            a.y += f[w] * sh_acc[w][i].y;
        }
        out2[i] = a;
    }
    if (warp == 0 && lane == 0) part_ms[part] = make_float2(M, S);
}

// Σ_s e^(m_s − M)·acc_s[i] / Σ_s e^(m_s − M)·S_s over the nsplit partial results at base.
static __device__ __forceinline__ float combine_splits(const float *__restrict__ part_acc, const float2 *__restrict__ part_ms,
                                                       long long base, int nsplit, int D, int i) {
    float M = -INFINITY;
    for (int s = 0; s < nsplit; s++) M = fmaxf(M, part_ms[base + s].x);
    float num = 0.0f, den = 0.0f;
    for (int s = 0; s < nsplit; s++) {
        const float2 ms = part_ms[base + s];
        if (ms.x == -INFINITY) continue;  // empty split
        const float f = expf(ms.x - M);
        num += f * part_acc[(base + s) * D + i];
        den += f * ms.y;
    }
    return num / den;
}

// The combine: out [n][n_head][D] = Σ_s e^(m_s − M)·acc_s / Σ_s e^(m_s − M)·S_s, with the q8_1 quantization of out folded
// in (the O projection then skips its quantize launch): each warp of the block owns 32 consecutive elements of the row
// (D is a multiple of 64), one q8_1 block. qs: int8 [n][n_head·D]; ds: float2 [n][n_head·D/32].
// Launch: grid (n_head, n), block D.
extern "C" __global__ void flash_attn_combine_q8_f32(const float *__restrict__ part_acc, const float2 *__restrict__ part_ms,
                                                     int nsplit, int D, float *__restrict__ out, int8_t *__restrict__ qs,
                                                     float2 *__restrict__ ds) {
    const int h = blockIdx.x, t = blockIdx.y, n_head = gridDim.x, i = threadIdx.x;
    const long long base = ((long long) t * n_head + h) * nsplit;
    const long long o = ((long long) t * n_head + h) * D + i;  // = t·(n_head·D) + h·D + i: the row layout of the mat-vec
    const float v = combine_splits(part_acc, part_ms, base, nsplit, D, i);
    out[o] = v;
    quantize_group_q8_1(v, qs + (o - i % 32), ds + o / 32);
}
