// Q8_0: 34-byte blocks of 32: d:fp16 @0, qs:int8[32] @2. y = qs[j] * d (dequantize_row_q8_0).
inline void deq_q8_0(const __global uchar * row, int c, int K, float * v) {
    const __global uchar * b = row + c * 34;
    const float d = ld_half(b);
    const __global char * qs = (const __global char *) (b + 2);
    for (int l = 0; l < CHUNK; l++) v[l] = qs[l] * d;
}
MUL_MV(q8_0)
GET_ROWS(q8_0)
