// Q2_K: 84-byte super-blocks of 256: scales[16] @0 (low nibble scale, high nibble min), qs[64] @16, d:fp16 @80,
// dmin:fp16 @82. Sub-block j (32 elements) of a block: half n = j >> 2 uses qs[32n ..], shift 2 (j & 3); element l
// takes scale byte 8n + 2 (j & 3) + l/16; y = d * (sc & 15) * ((q >> shift) & 3) - dmin * (sc >> 4)
// (ggml-quants.c :: dequantize_row_q2_K).
inline void deq_q2_k(const __global uchar * row, int c, int K, float * v) {
    const __global uchar * b = row + (c >> 3) * 84;
    const int j = c & 7;
    const int n = j >> 2;
    const int shift = 2 * (j & 3);
    const float d = ld_half(b + 80);
    const float dmin = ld_half(b + 82);
    const __global uchar * q = b + 16 + 32 * n;
    const __global uchar * sc = b + 8 * n + 2 * (j & 3);
    for (int l = 0; l < CHUNK; l++) {
        const int s = sc[l >> 4];
        v[l] = d * (s & 0xF) * ((q[l] >> shift) & 3) - dmin * (s >> 4);
    }
}
MUL_MV(q2_k)
GET_ROWS(q2_k)
