// Q6_K: 210-byte super-blocks of 256: ql[128] @0, qh[64] @128, scales:int8[16] @192, d:fp16 @208. Two halves of 128;
// in half h, quarter q (sub-block j = 4h + q) element l takes low bits from ql[64h + 32(q&1) + l] (nibble q>>1),
// high bits (qh[32h + l] >> 2q) & 3, scale scales[8h + l/16 + 2q]; y = d * sc * (q6 - 32) (dequantize_row_q6_K).
inline void deq_q6_k(const __global uchar * row, int c, int K, float * v) {
    const __global uchar * b = row + (c >> 3) * 210;
    const int j = c & 7;
    const int h = j >> 2;
    const int q = j & 3;
    const float d = ld_half(b + 208);
    const __global uchar * ql = b + 64 * h + 32 * (q & 1);
    const __global uchar * qh = b + 128 + 32 * h;
    const __global char * sc = (const __global char *) (b + 192 + 8 * h + 2 * q);
    const int shl = (q >> 1) * 4;
    const int shh = 2 * q;
    for (int l = 0; l < CHUNK; l++) {
        const int x = (int) (((ql[l] >> shl) & 0xF) | (((qh[l] >> shh) & 3) << 4)) - 32;
        v[l] = d * sc[l >> 4] * x;
    }
}
MUL_MV(q6_k)
GET_ROWS(q6_k)
