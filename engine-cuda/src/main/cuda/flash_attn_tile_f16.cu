// Prompt-chunk attention over the f16 KV cache with a tile of queries per block (after ggml-cuda fattn-tile.cu: Q of
// several queries in shared memory, K/V streamed through shared memory in chunks, an online softmax per query; and
// fattn-common.cuh for the split of the key range and flash_attn_combine_results): the keys of a chunk are read once
// for FT_Q queries instead of once per query as in flash_attn_split_f16 (flash_attn_ext_f16.cu), which keeps the
// one-token decode step. Same semantics as that kernel: query t (position p = positions[t]) of head h reads KV head
// h / (n_head / n_kv_head) and sees key positions p' in [lo, p], lo = max(0, p − span + 1), span = min(window, slots)
// on sliding-window layers (window > 0) and slots otherwise; key position p' lives in cache slot p' % slots; scores
// are scale·(q·k).
//
// Launch: grid (ceil(n / FT_Q), n_head, nsplit), block (32, FT_WARPS). The block's keys are the union of its queries'
// ranges [kmin, kmax]; split s takes [kmin + s·chunk, kmin + (s+1)·chunk) of it, chunk = max(min_chunk,
// ceil((kmax − kmin + 1) / nsplit)), both computed here from the positions on the device (so a recorded step stays
// right for new positions). Warp w owns queries FT_QPW·w .. FT_QPW·w + FT_QPW − 1 of the tile. Per chunk of FT_K keys:
//   1. the block loads the K rows into shared memory (rows padded by one word: lane l reads row l, 32 banks);
//   2. lane l scores key l against each of the warp's queries (Q rows in shared memory, read as a broadcast), and the
//      warp updates each query's running max m and sum l (online softmax), keeping the weights e^(s − m) in shared memory;
//   3. the block loads the V rows into the same buffer and each lane adds Σ_key e^(s − m)·v to its element pairs
//      (l, l + 32, ...) of each query's accumulator.
// nsplit = 1: out [n][n_head][D] = acc / l directly. Otherwise the partial results go to part_acc
// [n][n_head][nsplit][D] (unnormalised) and part_ms [n][n_head][nsplit] (m, l; m = −inf where the split held none of
// the query's keys) for flash_attn_combine_f32.
// q: [n][n_head][D] floats; kc, vc: [slots][kv_dim] halves (kv_dim = n_kv_head·D); D a multiple of 64, at most 256.
#include "common.cuh"

#define FT_WARPS 4
#define FT_Q 16                     // queries per block
#define FT_QPW (FT_Q / FT_WARPS)    // queries per warp
#define FT_K 32                     // keys per chunk (one per lane when scoring)
#define FT_MAX_D 256
#define FT_MAX_PAIRS (FT_MAX_D / 64)  // element pairs per lane

extern "C" __global__ void __launch_bounds__(32 * FT_WARPS)
flash_attn_tile_f16(const float *__restrict__ q, const __half *__restrict__ kc, const __half *__restrict__ vc,
                    const int *__restrict__ positions, int n, int n_head, int n_kv_head, int D, int slots, int window,
                    int min_chunk, float scale, float *__restrict__ out, float *__restrict__ part_acc,
                    float2 *__restrict__ part_ms) {
    __shared__ float2 sq[FT_Q][FT_MAX_D / 2];             // the tile's queries (zero past n)
    __shared__ __half2 skv[FT_K][FT_MAX_D / 2 + 1];       // K, then V, of the chunk's keys
    __shared__ float sp[FT_WARPS][FT_QPW][FT_K];          // e^(s − m) of each warp's queries and the chunk's keys

    const int tile = blockIdx.x, h = blockIdx.y, split = blockIdx.z, nsplit = gridDim.z;
    const int lane = threadIdx.x, warp = threadIdx.y, tid = warp * 32 + lane;
    const int half_d = D / 2, pairs = D / 64;
    const int kv_dim2 = n_kv_head * half_d;  // cache row in half2
    const int kvh = h / (n_head / n_kv_head);
    const int t0 = tile * FT_Q;
    const int span = window > 0 ? min(window, slots) : slots;

    // the key range of the tile, and this split's part of it
    int kmin = 0x7fffffff, kmax = -1;
    for (int i = 0; i < FT_Q && t0 + i < n; i++) {
        const int p = positions[t0 + i];
        kmin = min(kmin, max(0, p - span + 1));
        kmax = max(kmax, p);
    }
    const int chunk = max(min_chunk, (kmax - kmin + nsplit) / nsplit);
    const int start = kmin + split * chunk;
    const int end = min(kmax + 1, start + chunk);  // exclusive; start >= end: nothing to do

    // the warp's queries
    int qp[FT_QPW], qlo[FT_QPW];
    float m[FT_QPW], l[FT_QPW];
    float2 acc[FT_QPW][FT_MAX_PAIRS];
#pragma unroll
    for (int j = 0; j < FT_QPW; j++) {
        const int t = t0 + warp * FT_QPW + j;
        qp[j] = t < n ? positions[t] : -1;  // -1: no query, sees no key
        qlo[j] = t < n ? max(0, qp[j] - span + 1) : 0;
        m[j] = -INFINITY;
        l[j] = 0.0f;
#pragma unroll
        for (int i = 0; i < FT_MAX_PAIRS; i++) acc[j][i] = make_float2(0.0f, 0.0f);
    }
#pragma unroll 1
    for (int i = tid; i < FT_Q * half_d; i += 32 * FT_WARPS) {
        const int r = i / half_d, c = i % half_d, t = t0 + r;
        sq[r][c] = t < n ? reinterpret_cast<const float2 *>(q + ((long long) t * n_head + h) * D)[c] : make_float2(0.0f, 0.0f);
    }

    for (int kb = start; kb < end; kb += FT_K) {
        const int nk = min(FT_K, end - kb);
        // 1. K rows of the chunk
        __syncthreads();  // sq written / the previous chunk's V read
#pragma unroll 1
        for (int i = tid; i < nk * half_d; i += 32 * FT_WARPS) {
            const int key = i / half_d, c = i % half_d;
            skv[key][c] = reinterpret_cast<const __half2 *>(kc)[(long long) ((kb + key) % slots) * kv_dim2 + kvh * half_d + c];
        }
        __syncthreads();
        // 2. scores, online softmax
        const int kp = kb + lane;  // this lane's key position
        float dot[FT_QPW];
#pragma unroll
        for (int j = 0; j < FT_QPW; j++) dot[j] = 0.0f;
        if (lane < nk) {
#pragma unroll 2
            for (int c = 0; c < half_d; c++) {
                const float2 kf = __half22float2(skv[lane][c]);  // read once for the warp's FT_QPW queries
#pragma unroll
                for (int j = 0; j < FT_QPW; j++) {
                    const float2 qf = sq[warp * FT_QPW + j][c];
                    dot[j] += qf.x * kf.x + qf.y * kf.y;
                }
            }
        }
#pragma unroll
        for (int j = 0; j < FT_QPW; j++) {
            const float s = lane < nk && kp >= qlo[j] && kp <= qp[j] ? scale * dot[j] : -INFINITY;
            const float m_new = fmaxf(m[j], warp_max(s));
            // m_new = −inf: none of the query's keys seen yet (keep everything at zero, avoid inf − inf)
            const float corr = m_new == -INFINITY ? 1.0f : expf(m[j] - m_new);
            const float e = s == -INFINITY ? 0.0f : expf(s - m_new);
            l[j] = l[j] * corr + warp_sum(e);
            m[j] = m_new;
#pragma unroll
            for (int i = 0; i < FT_MAX_PAIRS; i++) {
                acc[j][i].x *= corr;
                acc[j][i].y *= corr;
            }
            sp[warp][j][lane] = e;
        }
        // 3. V rows of the chunk, weighted sums
        __syncthreads();  // every warp done with K
#pragma unroll 1
        for (int i = tid; i < nk * half_d; i += 32 * FT_WARPS) {
            const int key = i / half_d, c = i % half_d;
            skv[key][c] = reinterpret_cast<const __half2 *>(vc)[(long long) ((kb + key) % slots) * kv_dim2 + kvh * half_d + c];
        }
        __syncthreads();
#pragma unroll 1
        for (int key = 0; key < nk; key++) {
#pragma unroll
            for (int i = 0; i < FT_MAX_PAIRS; i++) {
                if (i < pairs) {
                    const float2 vf = __half22float2(skv[key][i * 32 + lane]);
#pragma unroll
                    for (int j = 0; j < FT_QPW; j++) {
                        const float e = sp[warp][j][key];
                        acc[j][i].x += e * vf.x;
                        acc[j][i].y += e * vf.y;
                    }
                }
            }
        }
    }

#pragma unroll
    for (int j = 0; j < FT_QPW; j++) {
        const int t = t0 + warp * FT_QPW + j;
        if (t >= n) continue;
        const long long row = (long long) t * n_head + h;
        if (nsplit == 1) {
            float2 *o = reinterpret_cast<float2 *>(out + row * D);
            const float inv = 1.0f / l[j];  // l > 0: key p itself is always in range
#pragma unroll
            for (int i = 0; i < FT_MAX_PAIRS; i++)
                if (i < pairs) o[i * 32 + lane] = make_float2(acc[j][i].x * inv, acc[j][i].y * inv);
        } else {
            const long long part = row * nsplit + split;
            float2 *o = reinterpret_cast<float2 *>(part_acc + part * D);
#pragma unroll
            for (int i = 0; i < FT_MAX_PAIRS; i++)
                if (i < pairs) o[i * 32 + lane] = acc[j][i];
            if (lane == 0) part_ms[part] = make_float2(m[j], l[j]);
        }
    }
}
