// Q5_K: 176-byte super-blocks of 256: d @0, dmin @2, scales[12] @4, qh[32] @16, qs[128] @48. Sub-block j as in Q4_K;
// its high bit is bit j of qh[l] (the qh pointer does not move between sub-blocks) (dequantize_row_q5_K).
inline void deq_q5_k(const __global uchar * row, int c, int K, float * v) {
    const __global uchar * b = row + (c >> 3) * 176;
    const int j = c & 7;
    float sc, mn;
    scale_min_k4(j, b + 4, &sc, &mn);
    const float d1 = ld_half(b) * sc;
    const float m1 = ld_half(b + 2) * mn;
    const __global uchar * qh = b + 16;
    const __global uchar * qs = b + 48 + 32 * (j >> 1);
    const int sh = (j & 1) * 4;
    for (int l = 0; l < CHUNK; l++) v[l] = d1 * (((qs[l] >> sh) & 0xF) + (((qh[l] >> j) & 1) << 4)) - m1;
}
MUL_MV(q5_k)
GET_ROWS(q5_k)
