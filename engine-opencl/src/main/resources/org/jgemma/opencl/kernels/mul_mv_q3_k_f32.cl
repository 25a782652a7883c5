// Q3_K: 110-byte super-blocks of 256: hmask[32] @0, qs[64] @32, scales[12] @96 (16 six-bit scales, offset 32),
// d:fp16 @108. Sub-block j (32 elements): half n = j >> 2 uses qs[32n ..], shift 2 (j & 3), high bit 4n + (j & 3) of
// hmask[l]; element l takes scale 8n + 2 (j & 3) + l/16, whose low 4 bits are scales[i] & 15 (i < 8) or
// scales[i - 8] >> 4, high 2 bits (scales[8 + i%4] >> 2 (i/4)) & 3; y = d * (sc - 32) * (q2 - (high bit ? 0 : 4))
// (ggml-quants.c :: dequantize_row_q3_K).
inline int q3_k_scale(const __global uchar * s, int i) {
    const int lo = i < 8 ? (s[i] & 0xF) : (s[i - 8] >> 4);
    return (lo | (((s[8 + (i & 3)] >> (2 * (i >> 2))) & 3) << 4)) - 32;
}

inline void deq_q3_k(const __global uchar * row, int c, int K, float * v) {
    const __global uchar * b = row + (c >> 3) * 110;
    const int j = c & 7;
    const int n = j >> 2;
    const int shift = 2 * (j & 3);
    const int m = 1 << (4 * n + (j & 3));
    const float d = ld_half(b + 108);
    const __global uchar * q = b + 32 + 32 * n;
    const float d0 = d * q3_k_scale(b + 96, 8 * n + 2 * (j & 3));
    const float d1 = d * q3_k_scale(b + 96, 8 * n + 2 * (j & 3) + 1);
    for (int l = 0; l < CHUNK; l++) {
        const int x = ((q[l] >> shift) & 3) - ((b[l] & m) ? 0 : 4);
        v[l] = (l < 16 ? d0 : d1) * x;
    }
}
MUL_MV(q3_k)
GET_ROWS(q3_k)
