// F32 rows.
inline void deq_f32(const __global uchar * row, int c, int K, float * v) {
    const __global float * p = (const __global float *) row;
    for (int l = 0; l < CHUNK; l++) {
        const int k = c * CHUNK + l;
        v[l] = k < K ? p[k] : 0.0f;
    }
}
MUL_MV(f32)
GET_ROWS(f32)
