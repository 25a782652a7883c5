// Shared helpers for every jgemma OpenCL kernel. All .cl files are concatenated (common.cl first) and built as one
// program per backend (OpenClKernels). Only OpenCL C 1.2 core features: halves are read and written with
// vload_half / vstore_half, so cl_khr_fp16 is not required.
//
// Packed weights are byte buffers in ggml's block layouts (ggml-common.h; FACTS.md §2). Every block size is even,
// so every fp16 field sits at an even byte offset and may be read through a half pointer.

#define CHUNK 32 // elements a dequantization helper produces at a time: one Q*_0 block, one K-quant sub-block

// fp16 at byte address p (2-byte aligned)
inline float ld_half(const __global uchar * p) {
    return vload_half(0, (const __global half *) p);
}

// get_scale_min_k4 (ggml-quants.c): 6-bit scale and min of sub-block j (0..7) from scales[12]
inline void scale_min_k4(int j, const __global uchar * q, float * sc, float * mn) {
    if (j < 4) {
        *sc = (float) (q[j] & 63);
        *mn = (float) (q[j + 4] & 63);
    } else {
        *sc = (float) ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *mn = (float) ((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// Each mul_mv_<type>_f32.cl defines deq_<type>(row, c, K, v): v[0..32) = elements [32c, 32c+32) of a packed row of
// K elements (zero beyond K), then instantiates the two macros below.

// Mat-vec / mat-mat on packed rows: out[t][r] = Σ_k W[r][k] x[t][k].
//   w: [N] rows of row_bytes; x: [n][K] f32; out: [n][N] f32.
//   Work-group (MV_WG, 1) per (row r, group of NT tokens): the work-items split the row's 32-element chunks, each
//   chunk is dequantized once and dotted with up to NT token rows (a prompt batch reads each weight byte n/NT times),
//   then the partial sums are reduced in local memory.
#define MUL_MV(T)                                                                                                   \
__kernel void mul_mv_##T##_f32(const __global uchar * w, ulong row_bytes, int K, int N,                            \
                               const __global float * x, __global float * out, int n) {                            \
    const int r = get_group_id(0);                                                                                  \
    const int t0 = get_group_id(1) * NT;                                                                            \
    const int lid = get_local_id(0);                                                                                \
    const int nt = min(NT, n - t0);                                                                                 \
    const int nc = (K + CHUNK - 1) / CHUNK;                                                                         \
    const __global uchar * row = w + (ulong) r * row_bytes;                                                         \
    const __global float * xb = x + (ulong) t0 * K;                                                                 \
    __local float part[NT * MV_WG];                                                                                 \
    float acc[NT];                                                                                                  \
    for (int t = 0; t < NT; t++) acc[t] = 0.0f;                                                                     \
    float v[CHUNK];                                                                                                 \
    for (int c = lid; c < nc; c += MV_WG) {                                                                         \
        deq_##T(row, c, K, v);                                                                                      \
        const int k0 = c * CHUNK;                                                                                   \
        const int kn = min(CHUNK, K - k0);                                                                          \
        for (int t = 0; t < NT; t++) {                                                                              \
            if (t < nt) {                                                                                           \
                const __global float * xt = xb + (ulong) t * K + k0;                                                \
                float s = 0.0f;                                                                                     \
                for (int l = 0; l < kn; l++) s = fma(v[l], xt[l], s);                                              \
                acc[t] += s;                                                                                        \
            }                                                                                                       \
        }                                                                                                           \
    }                                                                                                               \
    for (int t = 0; t < NT; t++) part[t * MV_WG + lid] = acc[t];                                                    \
    barrier(CLK_LOCAL_MEM_FENCE);                                                                                   \
    for (int s = MV_WG / 2; s > 0; s >>= 1) {                                                                       \
        if (lid < s) {                                                                                              \
            for (int t = 0; t < NT; t++) part[t * MV_WG + lid] += part[t * MV_WG + lid + s];                        \
        }                                                                                                           \
        barrier(CLK_LOCAL_MEM_FENCE);                                                                               \
    }                                                                                                               \
    if (lid < nt) out[(ulong) (t0 + lid) * N + r] = part[lid * MV_WG];                                              \
}

// Embedding rows (ggml_get_rows): out[t][k] = dequant(W[ids[t]])[k] * scale; out: [n][K]. Global (chunks, n).
// An id outside [0, rows) yields a row of NaN, so a bad token shows in the logits instead of reading stray memory.
#define GET_ROWS(T)                                                                                                 \
__kernel void get_rows_##T(const __global uchar * w, ulong row_bytes, int K, int rows,                             \
                           const __global int * ids, __global float * out, float scale) {                          \
    const int c = get_global_id(0);                                                                                 \
    const int t = get_global_id(1);                                                                                 \
    const int id = ids[t];                                                                                          \
    const int k0 = c * CHUNK;                                                                                       \
    const int kn = min(CHUNK, K - k0);                                                                              \
    __global float * o = out + (ulong) t * K + k0;                                                                  \
    if (id < 0 || id >= rows) {                                                                                     \
        for (int l = 0; l < kn; l++) o[l] = NAN;                                                                    \
        return;                                                                                                     \
    }                                                                                                               \
    float v[CHUNK];                                                                                                 \
    deq_##T(w + (ulong) id * row_bytes, c, K, v);                                                                   \
    for (int l = 0; l < kn; l++) o[l] = v[l] * scale;                                                               \
}
