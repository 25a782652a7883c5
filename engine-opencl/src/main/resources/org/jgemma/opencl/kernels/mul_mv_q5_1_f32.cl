// Q5_1: 24-byte blocks of 32: d:fp16 @0, m:fp16 @2, qh[4] @4, qs[16] @8; y = q5 * d + m (dequantize_row_q5_1).
inline void deq_q5_1(const __global uchar * row, int c, int K, float * v) {
    const __global uchar * b = row + c * 24;
    const float d = ld_half(b);
    const float m = ld_half(b + 2);
    const uint qh = b[4] | ((uint) b[5] << 8) | ((uint) b[6] << 16) | ((uint) b[7] << 24);
    const __global uchar * qs = b + 8;
    for (int j = 0; j < 16; j++) {
        const int x0 = (qs[j] & 0xF) | (((qh >> j) & 1) << 4);
        const int x1 = (qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
        v[j] = x0 * d + m;
        v[j + 16] = x1 * d + m;
    }
}
MUL_MV(q5_1)
GET_ROWS(q5_1)
