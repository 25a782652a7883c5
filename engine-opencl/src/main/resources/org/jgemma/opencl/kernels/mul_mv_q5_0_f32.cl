// Q5_0: 22-byte blocks of 32: d:fp16 @0, qh[4] @2 (little-endian u32 of high bits), qs[16] @6;
// element j has high bit (qh >> j) & 1, element j+16 has (qh >> (j+16)) & 1; y = (q5 - 16) * d (dequantize_row_q5_0).
inline void deq_q5_0(const __global uchar * row, int c, int K, float * v) {
    const __global uchar * b = row + c * 22;
    const float d = ld_half(b);
    const uint qh = b[2] | ((uint) b[3] << 8) | ((uint) b[4] << 16) | ((uint) b[5] << 24);
    const __global uchar * qs = b + 6;
    for (int j = 0; j < 16; j++) {
        const int x0 = (qs[j] & 0xF) | (((qh >> j) & 1) << 4);
        const int x1 = (qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
        v[j] = (x0 - 16) * d;
        v[j + 16] = (x1 - 16) * d;
    }
}
MUL_MV(q5_0)
GET_ROWS(q5_0)
