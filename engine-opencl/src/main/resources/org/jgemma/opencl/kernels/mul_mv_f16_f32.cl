// F16 rows (IEEE binary16).
inline void deq_f16(const __global uchar * row, int c, int K, float * v) {
    const __global half * p = (const __global half *) row;
    for (int l = 0; l < CHUNK; l++) {
        const int k = c * CHUNK + l;
        v[l] = k < K ? vload_half(k, p) : 0.0f;
    }
}
MUL_MV(f16)
GET_ROWS(f16)
