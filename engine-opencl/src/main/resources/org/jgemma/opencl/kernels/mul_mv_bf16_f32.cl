// BF16 rows: the upper 16 bits of a float32 (ggml_compute_bf16_to_fp32).
inline void deq_bf16(const __global uchar * row, int c, int K, float * v) {
    const __global ushort * p = (const __global ushort *) row;
    for (int l = 0; l < CHUNK; l++) {
        const int k = c * CHUNK + l;
        v[l] = k < K ? as_float(((uint) p[k]) << 16) : 0.0f;
    }
}
MUL_MV(bf16)
GET_ROWS(bf16)
