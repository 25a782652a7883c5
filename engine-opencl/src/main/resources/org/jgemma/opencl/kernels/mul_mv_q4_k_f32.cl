// Q4_K: 144-byte super-blocks of 256: d:fp16 @0, dmin:fp16 @2, scales[12] @4, qs[128] @16. Sub-block j (0..7) of 32:
// bytes qs[32*(j/2) ..] low nibbles for even j, high nibbles for odd j; y = d*sc(j) * q - dmin*mn(j)
// (dequantize_row_q4_K: d1 = d*sc and m1 = dmin*mn are formed first).
inline void deq_q4_k(const __global uchar * row, int c, int K, float * v) {
    const __global uchar * b = row + (c >> 3) * 144;
    const int j = c & 7;
    float sc, mn;
    scale_min_k4(j, b + 4, &sc, &mn);
    const float d1 = ld_half(b) * sc;
    const float m1 = ld_half(b + 2) * mn;
    const __global uchar * qs = b + 16 + 32 * (j >> 1);
    const int sh = (j & 1) * 4;
    for (int l = 0; l < CHUNK; l++) v[l] = d1 * ((qs[l] >> sh) & 0xF) - m1;
}
MUL_MV(q4_k)
GET_ROWS(q4_k)
