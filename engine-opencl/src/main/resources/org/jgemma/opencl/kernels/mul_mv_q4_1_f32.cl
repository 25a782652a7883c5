// Q4_1: 20-byte blocks of 32: d:fp16 @0, m:fp16 @2, qs[16] @4; y = q * d + m (dequantize_row_q4_1).
inline void deq_q4_1(const __global uchar * row, int c, int K, float * v) {
    const __global uchar * b = row + c * 20;
    const float d = ld_half(b);
    const float m = ld_half(b + 2);
    const __global uchar * qs = b + 4;
    for (int j = 0; j < 16; j++) {
        v[j] = (qs[j] & 0xF) * d + m;
        v[j + 16] = (qs[j] >> 4) * d + m;
    }
}
MUL_MV(q4_1)
GET_ROWS(q4_1)
