// Q4_0: 18-byte blocks of 32: d:fp16 @0, qs[16] @2; qs[j] holds element j (low nibble) and j+16 (high nibble);
// y = (q - 8) * d (dequantize_row_q4_0).
inline void deq_q4_0(const __global uchar * row, int c, int K, float * v) {
    const __global uchar * b = row + c * 18;
    const float d = ld_half(b);
    const __global uchar * qs = b + 2;
    for (int j = 0; j < 16; j++) {
        v[j] = ((int) (qs[j] & 0xF) - 8) * d;
        v[j + 16] = ((int) (qs[j] >> 4) - 8) * d;
    }
}
MUL_MV(q4_0)
GET_ROWS(q4_0)
