// Embedding lookup: out[t][i] = dequant(table row tokens[t])[i] · scale (ggml-cuda getrows.cu k_get_rows + scale).
// Launch: grid (ceil(cols/256), n), block 256. table: [n_vocab] packed rows of row_bytes; out: [n][cols].
#include "quants.cuh"

template <typename T>
static __device__ __forceinline__ void get_rows(const uint8_t *__restrict__ table, long long row_bytes,
                                                const int *__restrict__ tokens, int cols, float scale,
                                                float *__restrict__ out) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    const int t = blockIdx.y;
    if (i >= cols) return;
    const uint8_t *row = table + (long long) tokens[t] * row_bytes;
    out[(long long) t * cols + i] = T::get(row, i) * scale;
}

#define GET_ROWS(NAME, T)                                                                                     \
    extern "C" __global__ void NAME(const uint8_t *table, long long row_bytes, const int *tokens, int cols,   \
                                    float scale, float *out) {                                               \
        get_rows<T>(table, row_bytes, tokens, cols, scale, out);                                             \
    }

GET_ROWS(get_rows_f32, TF32)
GET_ROWS(get_rows_f16, TF16)
GET_ROWS(get_rows_bf16, TBF16)
GET_ROWS(get_rows_q4_0, TQ4_0)
GET_ROWS(get_rows_q4_1, TQ4_1)
GET_ROWS(get_rows_q5_0, TQ5_0)
GET_ROWS(get_rows_q5_1, TQ5_1)
GET_ROWS(get_rows_q8_0, TQ8_0)
GET_ROWS(get_rows_q2_k, TQ2_K)
GET_ROWS(get_rows_q3_k, TQ3_K)
GET_ROWS(get_rows_q4_k, TQ4_K)
GET_ROWS(get_rows_q5_k, TQ5_K)
GET_ROWS(get_rows_q6_k, TQ6_K)
