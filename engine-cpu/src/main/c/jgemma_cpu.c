// Native int8 mat-vec kernels for the CPU backend (x86-64, AVX2 + FMA + F16C): the block loops of ggml's
// ggml-cpu/arch/x86/quants.c (ggml_vec_dot_q8_0_q8_0, _q4_0_q8_0, _q5_0_q8_0, _q4_K_q8_K, _q6_K_q8_K, the __AVX2__
// branches), which multiply unsigned by signed bytes with vpmaddubsw: the Java Vector API has no such operation and
// its 16-bit formulation needs about twice the instructions per block (README, "Speed").
//
// One entry point per weight type, all with one signature (org.jgemma.cpu.NativeKernels):
//   out[t * ldo + r] = dot(weight row r, activation row t)   for r in [r0, r1), t in [0, n)
// w: the weight rows (rowBytes apart); q: int8 activations [n][k]; d: activation scales ([n][k/32] for Q8_0 activations,
// [n][k/256] for Q8_K); bsums: Q8_K's sums of each 16 activations [n][k/16] (int16, as ggml's block_q8_K; unused for
// the 32-blocks).
// Each column is computed by the same instructions in the same order whatever n is, so a sequence's result does not
// depend on what it is batched with. The library is compiled without -mavx2: only these functions carry the target
// attribute, and the Java side calls them only after jg_cpu_supported() said yes.
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define KERNEL __attribute__((target("avx2,fma,f16c")))
// The kernels that have a VNNI twin (vpdpbusd for vpmaddubsw + vpmaddwd): AVX512-VNNI on 256-bit vectors
#define VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni")))

int jg_cpu_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

int jg_abi_version(void) { return 3; }

// Whether the VNNI twins (*_vnni) run here: AVX512-VNNI with AVX512-VL (256-bit vpdpbusd).
int jg_cpu_vnni(void) {
    __builtin_cpu_init();
    return jg_cpu_supported() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512vnni");
}

KERNEL static inline float h2f(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

KERNEL static inline float hsum_float_8(__m256 x) {
    __m128 res = _mm256_extractf128_ps(x, 1);
    res = _mm_add_ps(res, _mm256_castps256_ps128(x));
    res = _mm_add_ps(res, _mm_movehl_ps(res, res));
    res = _mm_add_ss(res, _mm_movehdup_ps(res));
    return _mm_cvtss_f32(res);
}

KERNEL static inline __m256i bytes_from_nibbles_32(const uint8_t *rsi) {
    const __m128i tmp = _mm_loadu_si128((const __m128i *) rsi);
    const __m256i bytes = _mm256_insertf128_si256(_mm256_castsi128_si256(tmp), _mm_srli_epi16(tmp, 4), 1);
    return _mm256_and_si256(_mm256_set1_epi8(0xF), bytes);
}

// 32 bits to 32 bytes of 0x00 / 0xFF
KERNEL static inline __m256i bytes_from_bits_32(const uint8_t *x) {
    uint32_t x32;
    memcpy(&x32, x, 4);
    const __m256i shuf_mask = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0x0000000000000000);
    __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int) x32), shuf_mask);
    bytes = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    return _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1));
}

// The sum of 32 int8 activations (exact in int32): the block sums through which the offset types' kernels take off
// their offset (Q4_0's 8, Q5_0's 16, repacked Q8_0's 128).
KERNEL static inline int sum_i8_32(const int8_t *y) {
    const __m256i s32 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), _mm256_loadu_si256((const __m256i *) y)),
                                          _mm256_set1_epi16(1));
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

// ggml's q8s for activation columns [t0, t1): the sums of each 32 activations (pairs of the Q8_K bsums, _mm_hadd_epi16),
// [t - t0][k / 256][8], made once per call and column block for the K-quant kernels.
KERNEL static inline void q8_sums_32(const int16_t *bsums, int k, int t0, int t1, int16_t *q8s) {
    const int nb = k / 256;
    for (int t = t0; t < t1; t++)
        for (int i = 0; i < nb; i++) {
            const __m256i q8sums = _mm256_loadu_si256((const __m256i *) (bsums + (int64_t) t * (k / 16) + 16 * i));
            _mm_storeu_si128((__m128i *) (q8s + ((t - t0) * nb + i) * 8),
                    _mm_hadd_epi16(_mm256_extracti128_si256(q8sums, 0), _mm256_extracti128_si256(q8sums, 1)));
        }
}

// Columns per pass over a call's rows: about 128 KiB of activations, so they stay in L2 while the rows are swept
// (a prompt's activations, n x k bytes, can be megabytes). Every (row, column) is computed the same way whatever the
// blocking, so this changes the order of the work, never a result.
static inline int col_block(int k) {
    const int tb = (128 << 10) / k;
    return tb < 4 ? 4 : tb & ~3;
}

KERNEL static inline __m256 lane4(__m256 v, int j) { // v's lane j of each 128-bit half, in every lane (j a constant)
    switch (j) {
    case 0: return _mm256_permute_ps(v, 0x00);
    case 1: return _mm256_permute_ps(v, 0x55);
    case 2: return _mm256_permute_ps(v, 0xAA);
    default: return _mm256_permute_ps(v, 0xFF);
    }
}

// The 32-weight block types (Q8_0 activations). A row is dotted with NC activation rows at once: each weight block
// is loaded and decoded once (WEIGHTS), then every column multiplies it with its own activations (vpmaddubsw,
// vpmaddwd, convert, scale FMA into its own accumulator), so column t gets the same float whatever NC is.
// vpmaddubsw multiplies unsigned by signed bytes. Q8_0's weights are signed: ggml's sign trick (|w| times y with w's
// sign). Q4_0's and Q5_0's are stored unsigned with an offset (OFF = 8, 16): they go in as stored, with no sign
// operations, and the offset comes back through each column's block sums, OFF * sum_b dw_b * (dy_b * sum(y_b)), one
// FMA per block (es: dy_b * sum(y_b) per column and block, computed once per call). The integer part is exact either
// way; the float result differs from ggml's sign-trick order by rounding only (NativeKernelsTest: within 1e-5 of the
// magnitude of the dot).
#define ROWS_32(NAME, SFX, ATTR, DOT1, BYTES, OFF, WEIGHTS)                                                                         \
ATTR __attribute__((always_inline)) static inline void NAME##_cols##SFX(const uint8_t *x, int nb, const int8_t *q,     \
        const float *d, const float *es, int k, int t0, const int NC, float *out, int ldo, int r) {                 \
    __m256 acc[4];                                                                                                  \
    float corr[4];                                                                                                  \
    _Pragma("GCC unroll 4") for (int c = 0; c < NC; c++) { acc[c] = _mm256_setzero_ps(); corr[c] = 0; }             \
    const __m256i ones = _mm256_set1_epi16(1);                                                                      \
    (void) ones;                                                                                                    \
    for (int b = 0; b < nb; b++) {                                                                                  \
        const uint8_t *blk = x + (BYTES) * b;                                                                       \
        const float hd = h2f(blk);                                                                                  \
        WEIGHTS                                                                                                     \
        const __m256i ax = (OFF) ? qx : _mm256_sign_epi8(qx, qx);                                                   \
        _Pragma("GCC unroll 4") for (int c = 0; c < NC; c++) {                                                      \
            const int t = t0 + c;                                                                                   \
            const __m256 dd = _mm256_set1_ps(hd * d[(int64_t) t * nb + b]);                                         \
            const __m256i qy = _mm256_loadu_si256((const __m256i *) (q + (int64_t) t * k + 32 * b));                \
            const __m256i dot = DOT1(ax, (OFF) ? qy : _mm256_sign_epi8(qy, qx));                                    \
            acc[c] = _mm256_fmadd_ps(dd, _mm256_cvtepi32_ps(dot), acc[c]);                                          \
            if (OFF) corr[c] = __builtin_fmaf(hd, es[(int64_t) (t - t0) * nb + b], corr[c]);                        \
        }                                                                                                           \
    }                                                                                                               \
    _Pragma("GCC unroll 4") for (int c = 0; c < NC; c++)                                                            \
        out[(int64_t) (t0 + c) * ldo + r] = hsum_float_8(acc[c]) - (float) (OFF) * corr[c];                         \
}                                                                                                                   \
/* NG groups of four columns (NG = 1 or 2) whose block scales were laid out [group][nb][4] (ds, and es likewise):   \
   one multiply gives a block's four scale products and an in-lane permute hands each column its own                \
   (tinyBLAS_Q0_AVX's trick), the same products as above; a group's offset sums go in one 4-lane FMA, the same       \
   float as each column's own; each weight block is decoded once for all 4 NG columns. */                            \
ATTR __attribute__((always_inline)) static inline void NAME##_groups##SFX(const uint8_t *x, int nb, const int8_t *q,   \
        const float *ds, const float *es, int k, int t0, const int NG, float *out, int ldo, int r) {                \
    __m256 acc[8];                                                                                                  \
    __m128 corr[2] = {_mm_setzero_ps(), _mm_setzero_ps()};                                                          \
    _Pragma("GCC unroll 8") for (int c = 0; c < 4 * NG; c++) acc[c] = _mm256_setzero_ps();                          \
    const __m256i ones = _mm256_set1_epi16(1);                                                                      \
    (void) ones;                                                                                                    \
    const int8_t *q0 = q + (int64_t) t0 * k;                                                                        \
    for (int b = 0; b < nb; b++) {                                                                                  \
        const uint8_t *blk = x + (BYTES) * b;                                                                       \
        const __m256 hv = _mm256_set1_ps(h2f(blk));                                                                 \
        __m256 dv[2];                                                                                               \
        _Pragma("GCC unroll 2") for (int g = 0; g < NG; g++) {                                                      \
            dv[g] = _mm256_mul_ps(hv, _mm256_broadcast_ps((const __m128 *) (ds + (g * nb + b) * 4)));               \
            if (OFF) corr[g] = _mm_fmadd_ps(_mm256_castps256_ps128(hv), _mm_loadu_ps(es + (g * nb + b) * 4), corr[g]); \
        }                                                                                                           \
        WEIGHTS                                                                                                     \
        const __m256i ax = (OFF) ? qx : _mm256_sign_epi8(qx, qx);                                                   \
        _Pragma("GCC unroll 8") for (int c = 0; c < 4 * NG; c++) {                                                  \
            const __m256i y = _mm256_loadu_si256((const __m256i *) (q0 + (int64_t) c * k + 32 * b));                \
            const __m256i dot = DOT1(ax, (OFF) ? y : _mm256_sign_epi8(y, qx));                                      \
            acc[c] = _mm256_fmadd_ps(lane4(dv[c / 4], c % 4), _mm256_cvtepi32_ps(dot), acc[c]);                     \
        }                                                                                                           \
    }                                                                                                               \
    float cr[8];                                                                                                    \
    _mm_storeu_ps(cr, corr[0]);                                                                                     \
    _mm_storeu_ps(cr + 4, corr[1]);                                                                                 \
    _Pragma("GCC unroll 8") for (int c = 0; c < 4 * NG; c++)                                                        \
        out[(int64_t) (t0 + c) * ldo + r] = hsum_float_8(acc[c]) - (float) (OFF) * cr[c];                           \
}                                                                                                                   \
ATTR void jg_##NAME##SFX(const uint8_t *w, int64_t rowBytes, int r0, int r1, const int8_t *q, const float *d,          \
                      const int16_t *bsums, int k, int n, float *out, int ldo) {                                    \
    (void) bsums;                                                                                                   \
    const int nb = k / 32;                                                                                          \
    const int tb = col_block(k);                                                                                    \
    /* a column block's scales [tb/4][nb][4] and, for the offset types, its block sums: es [t][nb] for the 1- and   \
       2-column calls, es4 [tb/4][nb][4] for the 4-column ones; tb * nb <= 4096 for k <= 32768 */                            \
    enum { CAP = 4096 + 4 * 32 };                                                                                   \
    float ds[CAP], es[(OFF) ? CAP : 1], es4[(OFF) ? CAP : 1];                                                        \
    for (int t0 = 0; t0 < n; t0 += tb) {                                                                            \
        const int t1 = t0 + tb < n ? t0 + tb : n, groups = (t1 - t0) / 4;                                           \
        const int fits = (t1 - t0) * nb <= CAP; /* for every k <= 32768 (NativeKernels.MAX_K) */                    \
        if (!fits && (OFF)) return; /* unreachable: NativeKernels refuses k > 32768 */                              \
        for (int t = t0; fits && (OFF) && t < t1; t++)                                                              \
            for (int b = 0; b < nb; b++)                                                                            \
                es[(t - t0) * nb + b] = d[(int64_t) t * nb + b] * (float) sum_i8_32(q + (int64_t) t * k + 32 * b);  \
        for (int g = 0; fits && g < groups; g++)                                                                    \
            for (int b = 0; b < nb; b++)                                                                            \
                for (int c = 0; c < 4; c++) {                                                                       \
                    ds[(g * nb + b) * 4 + c] = d[(int64_t) (t0 + 4 * g + c) * nb + b];                              \
                    if (OFF) es4[(g * nb + b) * 4 + c] = es[(4 * g + c) * nb + b];                                  \
                }                                                                                                   \
        for (int r = r0; r < r1; r++) {                                                                             \
            const uint8_t *x = w + rowBytes * r;                                                                    \
            int t = t0;                                                                                             \
            int g = 0;                                                                                              \
            for (; fits && g + 2 <= groups; g += 2, t += 8)                                                         \
                NAME##_groups##SFX(x, nb, q, ds + g * nb * 4, es4 + ((OFF) ? g * nb * 4 : 0), k, t, 2, out, ldo, r);     \
            for (; g < groups; g++, t += 4) {                                                                       \
                if (fits) NAME##_groups##SFX(x, nb, q, ds + g * nb * 4, es4 + ((OFF) ? g * nb * 4 : 0), k, t, 1, out, ldo, r); \
                else NAME##_cols##SFX(x, nb, q, d, es, k, t, 4, out, ldo, r);                                            \
            }                                                                                                       \
            if (t + 2 <= t1) { NAME##_cols##SFX(x, nb, q, d, es + ((OFF) ? (t - t0) * nb : 0), k, t, 2, out, ldo, r); t += 2; } \
            if (t < t1) NAME##_cols##SFX(x, nb, q, d, es + ((OFF) ? (t - t0) * nb : 0), k, t, 1, out, ldo, r);           \
        }                                                                                                           \
    }                                                                                                               \
}

// Each 32-block type twice: AVX2 (vpmaddubsw, then vpmaddwd with ones) and AVX512-VNNI (vpdpbusd): the same integers,
// so the same floats (no vpmaddubsw pair sum saturates: Q8_0's |w| * y <= 128 * 127, the nibbles' <= 31 * 128).
#define DOT1_AVX2(a, y) _mm256_madd_epi16(ones, _mm256_maddubs_epi16(a, y))
#define DOT1_VNNI(a, y) _mm256_dpbusd_epi32(_mm256_setzero_si256(), a, y)
#define ROWS_32_BOTH(NAME, BYTES, OFF, WEIGHTS) \
    ROWS_32(NAME, , KERNEL, DOT1_AVX2, BYTES, OFF, WEIGHTS) \
    ROWS_32(NAME, _vnni, VNNI, DOT1_VNNI, BYTES, OFF, WEIGHTS)

// Q8_0: d (f16), qs[32]
ROWS_32_BOTH(q8_0, 34, 0,
        const __m256i qx = _mm256_loadu_si256((const __m256i *) (blk + 2));)

// Q4_0: d (f16), qs[16]: low nibbles are weights 0..15, high nibbles 16..31; the value is the nibble minus 8
ROWS_32_BOTH(q4_0, 18, 8,
        const __m256i qx = bytes_from_nibbles_32(blk + 2);)

// Q5_0: d (f16), qh (32 bits), qs[16]: the nibble and the 5th bit from qh, minus 16
ROWS_32_BOTH(q5_0, 22, 16,
        const __m256i qx = _mm256_or_si256(bytes_from_nibbles_32(blk + 6),
                _mm256_and_si256(bytes_from_bits_32(blk + 2), _mm256_set1_epi8(0x10)));)

// Q4_0 repacked at load into groups of 8 rows: ggml's block_q4_0x8 layout (make_block_q4_0x8 in ggml-cpu/repack.cpp,
// blck_size_interleave 8) without its XOR 0x88, so the nibbles stay unsigned as stored. Per 32-weight block of the 8
// rows: their 8 scales (f16, row order), then 128 bytes: 8 bytes of each row in turn, rows 0..7 with their bytes 0..7,
// then rows 0..7 with their bytes 8..15. A group takes exactly the bytes of its 8 rows (8 x 18 per block), so the group
// of row r (a multiple of 8) starts at byte r * rowBytes, as the row does unpacked.
void jg_pack_q4_0(const uint8_t *src, uint8_t *dst, int64_t rowBytes, int64_t rows) {
    const int64_t nb = rowBytes / 18;
    for (int64_t g = 0; g + 8 <= rows; g += 8)
        for (int64_t b = 0; b < nb; b++) {
            uint8_t *o = dst + g * rowBytes + 144 * b;
            for (int i = 0; i < 8; i++) memcpy(o + 2 * i, src + (g + i) * rowBytes + 18 * b, 2);
            for (int i = 0; i < 16; i++) memcpy(o + 16 + 8 * i, src + (g + i % 8) * rowBytes + 18 * b + 2 + 8 * (i / 8), 8);
        }
}

// One group of 8 packed Q4_0 rows dotted with NC activation columns; each block of the group is decoded once for all.
// A 32-byte register holds 8 bytes of 4 rows; each column's 8-byte pieces are broadcast to the 4 rows
// (ggml_gemv_q4_0_8x8_q8_0's arrangement), so the unsigned-by-signed byte products summed in fours give int32 pair
// sums of 4 rows at once, and one vphaddd makes the 8 rows' block dots, lanes in row order 0 1 4 5 2 3 6 7 (PERM).
// DOT4 sums a row's four products (low and high nibbles of its bytes 0..7 and 8..15) into int32: vpmaddubsw, three
// int16 adds (each product at most 2*15*128, the sum of four fits) and vpmaddwd on AVX2; four vpdpbusd with
// AVX512-VNNI (the same integers, so the same floats). The offset 8 of every nibble comes off in int32 through the
// column's block sum (s8 = 8 * sum(y), exact), then one FMA with the 8 scale products; column t is computed by the same
// instructions whatever NC is.
#define DOT4_AVX2(a0, y0, a1, y1, a2, y2, a3, y3)                                                                  \
    _mm256_madd_epi16(_mm256_add_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(a0, y0), _mm256_maddubs_epi16(a1, y1)), \
                                       _mm256_add_epi16(_mm256_maddubs_epi16(a2, y2), _mm256_maddubs_epi16(a3, y3))), ones)
#define DOT4_VNNI(a0, y0, a1, y1, a2, y2, a3, y3)                                                                  \
    _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(_mm256_dpbusd_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(),       \
            a0, y0), a1, y1), a2, y2), a3, y3)
#define X8_32(NAME, SFX, ATTR, DOT4, GB, OFF, HIGHBITS)                                                                                     \
ATTR __attribute__((always_inline)) static inline void NAME##x8_cols##SFX(const uint8_t *x, int nb, const int8_t *q, \
        const float *d, const int32_t *s8, int k, int t0, const int NC, float *out, int ldo, int r) {               \
    const __m256i m4 = _mm256_set1_epi8(0xF), ones = _mm256_set1_epi16(1);                                         \
    (void) ones;                                                                                                    \
    const __m256i perm = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);                                                 \
    __m256 acc[8];                                                                                                  \
    _Pragma("GCC unroll 8") for (int c = 0; c < NC; c++) acc[c] = _mm256_setzero_ps();                              \
    for (int b = 0; b < nb; b++) {                                                                                  \
        const uint8_t *blk = x + (GB) * b;                                                                           \
        const __m256 dw = _mm256_permutevar8x32_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) blk)), perm);  \
        const __m256i w0 = _mm256_loadu_si256((const __m256i *) (blk + 16));  /* rows 0-3, bytes 0-7 */              \
        const __m256i w1 = _mm256_loadu_si256((const __m256i *) (blk + 48));  /* rows 4-7, bytes 0-7 */              \
        const __m256i w2 = _mm256_loadu_si256((const __m256i *) (blk + 80));  /* rows 0-3, bytes 8-15 */             \
        const __m256i w3 = _mm256_loadu_si256((const __m256i *) (blk + 112)); /* rows 4-7, bytes 8-15 */             \
        __m256i l0 = _mm256_and_si256(w0, m4), h0 = _mm256_and_si256(_mm256_srli_epi16(w0, 4), m4);           \
        __m256i l1 = _mm256_and_si256(w1, m4), h1 = _mm256_and_si256(_mm256_srli_epi16(w1, 4), m4);           \
        __m256i l2 = _mm256_and_si256(w2, m4), h2 = _mm256_and_si256(_mm256_srli_epi16(w2, 4), m4);           \
        __m256i l3 = _mm256_and_si256(w3, m4), h3 = _mm256_and_si256(_mm256_srli_epi16(w3, 4), m4);                 \
        HIGHBITS                                                                                                    \
        _Pragma("GCC unroll 8") for (int c = 0; c < NC; c++) {                                                      \
            const int t = t0 + c;                                                                                   \
            const int8_t *y = q + (int64_t) t * k + 32 * b;                                                         \
            int64_t y0, y1, y2, y3;                                                                                 \
            memcpy(&y0, y, 8);                                                                                      \
            memcpy(&y1, y + 8, 8);                                                                                  \
            memcpy(&y2, y + 16, 8);                                                                                 \
            memcpy(&y3, y + 24, 8);                                                                                 \
            const __m256i Y0 = _mm256_set1_epi64x(y0), Y1 = _mm256_set1_epi64x(y1);                                 \
            const __m256i Y2 = _mm256_set1_epi64x(y2), Y3 = _mm256_set1_epi64x(y3);                                 \
            /* byte j of a row: low nibble weight j, high nibble weight j + 16 */                                   \
            __m256i dot = _mm256_hadd_epi32(DOT4(l0, Y0, l2, Y1, h0, Y2, h2, Y3), DOT4(l1, Y0, l3, Y1, h1, Y2, h3, Y3)); \
            dot = _mm256_sub_epi32(dot, _mm256_set1_epi32(s8[(int64_t) (t - t0) * nb + b]));                        \
            const __m256 dd = _mm256_mul_ps(dw, _mm256_set1_ps(d[(int64_t) t * nb + b]));                           \
            acc[c] = _mm256_fmadd_ps(dd, _mm256_cvtepi32_ps(dot), acc[c]);                                          \
        }                                                                                                           \
    }                                                                                                               \
    _Pragma("GCC unroll 8") for (int c = 0; c < NC; c++) /* PERM is its own inverse */                              \
        _mm256_storeu_ps(out + (int64_t) (t0 + c) * ldo + r, _mm256_permutevar8x32_ps(acc[c], perm));               \
}                                                                                                                   \
/* Rows [r0, r1) (multiples of 8) of a packed weight (jg_pack_q4_0, jg_pack_q5_0), the signature of the row kernel,  \
   results within rounding of it (the same integers; the scales applied in another order). */                                      \
ATTR void jg_##NAME##x8##SFX(const uint8_t *w, int64_t rowBytes, int r0, int r1, const int8_t *q, const float *d,        \
                      const int16_t *bsums, int k, int n, float *out, int ldo) {                                    \
    (void) bsums; (void) rowBytes;                                                                                                   \
    const int nb = k / 32;                                                                                          \
    const int tb = col_block(k);                                                                                    \
    enum { CAP = 4096 + 4 * 32 };                                                                                   \
    int32_t s8[CAP]; /* 8 * sum(y) of each block of a column block's columns, [t - t0][nb] */                       \
    for (int t0 = 0; t0 < n; t0 += tb) {                                                                            \
        const int t1 = t0 + tb < n ? t0 + tb : n;                                                                   \
        if ((t1 - t0) * nb > CAP) return; /* unreachable: NativeKernels refuses k > 32768 */                        \
        for (int t = t0; t < t1; t++)                                                                               \
            for (int b = 0; b < nb; b++) s8[(t - t0) * nb + b] = (OFF) * sum_i8_32(q + (int64_t) t * k + 32 * b);   \
        for (int r = r0; r + 8 <= r1; r += 8) {                                                                     \
            const uint8_t *x = w + (int64_t) (r / 8) * nb * (GB);                                                                    \
            int t = t0;                                                                                             \
            for (; t + 4 <= t1; t += 4) NAME##x8_cols##SFX(x, nb, q, d, s8 + (t - t0) * nb, k, t, 4, out, ldo, r);    \
            if (t + 2 <= t1) { NAME##x8_cols##SFX(x, nb, q, d, s8 + (t - t0) * nb, k, t, 2, out, ldo, r); t += 2; }   \
            if (t < t1) NAME##x8_cols##SFX(x, nb, q, d, s8 + (t - t0) * nb, k, t, 1, out, ldo, r);                    \
        }                                                                                                           \
    }                                                                                                               \
}

X8_32(q4_0, , KERNEL, DOT4_AVX2, 144, 8, )
X8_32(q4_0, _vnni, VNNI, DOT4_VNNI, 144, 8, )

// Q5_0 repacked like Q4_0, with the fifth bits of each register's 32 weights as one 32-bit word (bit 8 rr + j: byte j of
// the register's row rr), so a register's high bits are one bytes_from_bits_32: per 32-weight block of the 8 rows
// (208 bytes, 8 x 22 + 32): the 8 scales (f16), the nibbles as Q4_0's (16 + 32 i for register i: rows 0-3 / 4-7 of
// bytes 0-7, then of bytes 8-15), then the words: low nibbles' of register i at 144 + 8 i, high nibbles' at 148 + 8 i.
// The values 0..31 go in unsigned, the offset 16 through the block sums (the four products of a row sum to at most
// 4 * 2 * 31 * 128 in int16).
void jg_pack_q5_0(const uint8_t *src, uint8_t *dst, int64_t rowBytes, int64_t rows) {
    const int64_t nb = rowBytes / 22;
    for (int64_t g = 0; g + 8 <= rows; g += 8)
        for (int64_t b = 0; b < nb; b++) {
            uint8_t *o = dst + (g / 8) * nb * 208 + 208 * b;
            for (int i = 0; i < 8; i++) memcpy(o + 2 * i, src + (g + i) * rowBytes + 22 * b, 2);
            for (int i = 0; i < 16; i++) memcpy(o + 16 + 8 * i, src + (g + i % 8) * rowBytes + 22 * b + 6 + 8 * (i / 8), 8);
            for (int i = 0; i < 4; i++)
                for (int rr = 0; rr < 4; rr++) {
                    uint32_t qh;
                    memcpy(&qh, src + (g + 4 * (i & 1) + rr) * rowBytes + 22 * b + 2, 4);
                    o[144 + 8 * i + rr] = (uint8_t) (qh >> (8 * (i >> 1)));
                    o[148 + 8 * i + rr] = (uint8_t) (qh >> (16 + 8 * (i >> 1)));
                }
        }
}

#define Q5_0_HIGHBITS                                                                                               \
        const __m256i m16 = _mm256_set1_epi8(0x10);                                                                 \
        l0 = _mm256_or_si256(l0, _mm256_and_si256(bytes_from_bits_32(blk + 144), m16));                             \
        h0 = _mm256_or_si256(h0, _mm256_and_si256(bytes_from_bits_32(blk + 148), m16));                             \
        l1 = _mm256_or_si256(l1, _mm256_and_si256(bytes_from_bits_32(blk + 152), m16));                             \
        h1 = _mm256_or_si256(h1, _mm256_and_si256(bytes_from_bits_32(blk + 156), m16));                             \
        l2 = _mm256_or_si256(l2, _mm256_and_si256(bytes_from_bits_32(blk + 160), m16));                             \
        h2 = _mm256_or_si256(h2, _mm256_and_si256(bytes_from_bits_32(blk + 164), m16));                             \
        l3 = _mm256_or_si256(l3, _mm256_and_si256(bytes_from_bits_32(blk + 168), m16));                             \
        h3 = _mm256_or_si256(h3, _mm256_and_si256(bytes_from_bits_32(blk + 172), m16));
X8_32(q5_0, , KERNEL, DOT4_AVX2, 208, 16, Q5_0_HIGHBITS)
X8_32(q5_0, _vnni, VNNI, DOT4_VNNI, 208, 16, Q5_0_HIGHBITS)

static const uint8_t k_shuffle_k4[256] = {
     0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
     2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3,
     4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5,
     6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7,
     8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9,
    10,11,10,11,10,11,10,11,10,11,10,11,10,11,10,11,10,11,10,11,10,11,10,11,10,11,10,11,10,11,10,11,
    12,13,12,13,12,13,12,13,12,13,12,13,12,13,12,13,12,13,12,13,12,13,12,13,12,13,12,13,12,13,12,13,
    14,15,14,15,14,15,14,15,14,15,14,15,14,15,14,15,14,15,14,15,14,15,14,15,14,15,14,15,14,15,14,15
};


static const uint8_t k_shuffle_q6[128] = {
     0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
     2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
     4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5,
     6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7,
     8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9,
    10,10,10,10,10,10,10,10,11,11,11,11,11,11,11,11,
    12,12,12,12,12,12,12,12,13,13,13,13,13,13,13,13,
    14,14,14,14,14,14,14,14,15,15,15,15,15,15,15,15
};

// The super-block types (Q8_K activations), ggml's __AVX2__ loops of ggml_vec_dot_q4_K_q8_K and ggml_vec_dot_q6_K_q8_K
// (ggml-cpu/arch/x86/quants.c), written for one weight row and NC = 1, 2, 4 or 8 activation rows: each 64- or 128-weight
// step of the row is decoded once (nibbles, high bits, scales) and used by every column, and each column does exactly
// what ggml's single-column loop does, in the same order, so column t gets the same float whatever NC is. y: int8
// activations [n][k]; dy: their scales [n][k/256]; bs: int16 sums of each 16 activations [n][k/16] (ggml's
// block_q8_K.bsums).
KERNEL __attribute__((always_inline)) static inline void q4_K_cols(const uint8_t *x, int nb, const int8_t *q,
        const float *dy, const int16_t *bs, const int16_t *q8s, int k, int t0, const int NC, float *out, int ldo, int r) {
    (void) bs;
    const uint32_t kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
    const __m256i m4 = _mm256_set1_epi8(0xF);
    __m256 acc[8];
    __m128 acc_m[8];
    _Pragma("GCC unroll 8") for (int c = 0; c < NC; c++) { acc[c] = _mm256_setzero_ps(); acc_m[c] = _mm_setzero_ps(); }
    for (int i = 0; i < nb; i++) {
        const uint8_t *blk = x + 144 * i; // d, dmin (f16), scales[12], qs[128]
        const float xd = h2f(blk), xdmin = h2f(blk + 2);
        uint32_t utmp[4];
        memcpy(utmp, blk + 4, 12);
        utmp[3] = ((utmp[2] >> 4) & kmask2) | (((utmp[1] >> 6) & kmask3) << 4);
        const uint32_t uaux = utmp[1] & kmask1;
        utmp[1] = (utmp[2] & kmask2) | (((utmp[0] >> 6) & kmask3) << 4);
        utmp[2] = uaux;
        utmp[0] &= kmask1;
        const __m256i mins_and_scales = _mm256_cvtepu8_epi16(_mm_set_epi32((int) utmp[3], (int) utmp[2], (int) utmp[1], (int) utmp[0]));
        const __m128i mins = _mm256_extracti128_si256(mins_and_scales, 1);
        _Pragma("GCC unroll 8") for (int c = 0; c < NC; c++) {
            const int t = t0 + c;
            const float dmin = -dy[(int64_t) t * nb + i] * xdmin;
            const __m128i prod = _mm_madd_epi16(mins, _mm_loadu_si128((const __m128i *) (q8s + ((int64_t) c * nb + i) * 8)));
            acc_m[c] = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(prod), acc_m[c]);
        }
        const __m128i sc128 = _mm256_extracti128_si256(mins_and_scales, 0);
        const __m256i scales = _mm256_insertf128_si256(_mm256_castsi128_si256(sc128), sc128, 1);
        __m256i sumi[8];
        _Pragma("GCC unroll 8") for (int c = 0; c < NC; c++) sumi[c] = _mm256_setzero_si256();
        const uint8_t *q4 = blk + 16;
        for (int j = 0; j < 4; j++) {
            const __m256i scale_l = _mm256_shuffle_epi8(scales, _mm256_loadu_si256((const __m256i *) k_shuffle_k4 + 2 * j));
            const __m256i scale_h = _mm256_shuffle_epi8(scales, _mm256_loadu_si256((const __m256i *) k_shuffle_k4 + 2 * j + 1));
            const __m256i q4bits = _mm256_loadu_si256((const __m256i *) (q4 + 32 * j));
            const __m256i q4l = _mm256_and_si256(q4bits, m4);
            const __m256i q4h = _mm256_and_si256(_mm256_srli_epi16(q4bits, 4), m4);
            _Pragma("GCC unroll 8") for (int c = 0; c < NC; c++) {
                const int8_t *q8 = q + (int64_t) (t0 + c) * k + 256 * i + 64 * j;
                const __m256i p16l = _mm256_madd_epi16(scale_l, _mm256_maddubs_epi16(q4l, _mm256_loadu_si256((const __m256i *) q8)));
                const __m256i p16h = _mm256_madd_epi16(scale_h, _mm256_maddubs_epi16(q4h, _mm256_loadu_si256((const __m256i *) (q8 + 32))));
                sumi[c] = _mm256_add_epi32(sumi[c], _mm256_add_epi32(p16l, p16h));
            }
        }
        _Pragma("GCC unroll 8") for (int c = 0; c < NC; c++) {
            const float d = dy[(int64_t) (t0 + c) * nb + i] * xd;
            acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi[c]), acc[c]);
        }
    }
    _Pragma("GCC unroll 8") for (int c = 0; c < NC; c++) {
        __m128 m = _mm_add_ps(acc_m[c], _mm_movehl_ps(acc_m[c], acc_m[c]));
        m = _mm_add_ss(m, _mm_movehdup_ps(m));
        out[(int64_t) (t0 + c) * ldo + r] = hsum_float_8(acc[c]) + _mm_cvtss_f32(m);
    }
}

KERNEL __attribute__((always_inline)) static inline void q6_K_cols(const uint8_t *x, int nb, const int8_t *q,
        const float *dy, const int16_t *bs, const int16_t *q8s, int k, int t0, const int NC, float *out, int ldo, int r) {
    (void) q8s;
    const __m256i m3 = _mm256_set1_epi8(3), m15 = _mm256_set1_epi8(15);
    __m256 acc[8];
    _Pragma("GCC unroll 8") for (int c = 0; c < NC; c++) acc[c] = _mm256_setzero_ps();
    for (int i = 0; i < nb; i++) {
        const uint8_t *blk = x + 210 * i; // ql[128], qh[64], scales[16] (int8), d (f16)
        const float xd = h2f(blk + 208);
        const __m128i scales = _mm_loadu_si128((const __m128i *) (blk + 192));
        const __m256i scales_16 = _mm256_cvtepi8_epi16(scales);
        __m256i sumi[8];
        _Pragma("GCC unroll 8") for (int c = 0; c < NC; c++) sumi[c] = _mm256_setzero_si256();
        for (int j = 0; j < 2; j++) {
            const uint8_t *q4 = blk + 64 * j, *qh = blk + 128 + 32 * j;
            const __m256i q4bits1 = _mm256_loadu_si256((const __m256i *) q4);
            const __m256i q4bits2 = _mm256_loadu_si256((const __m256i *) (q4 + 32));
            const __m256i q4bitsH = _mm256_loadu_si256((const __m256i *) qh);
            const __m256i q4h_0 = _mm256_slli_epi16(_mm256_and_si256(q4bitsH, m3), 4);
            const __m256i q4h_1 = _mm256_slli_epi16(_mm256_and_si256(q4bitsH, _mm256_set1_epi8(12)), 2);
            const __m256i q4h_2 = _mm256_and_si256(q4bitsH, _mm256_set1_epi8(48));
            const __m256i q4h_3 = _mm256_srli_epi16(_mm256_and_si256(q4bitsH, _mm256_set1_epi8(-64)), 2);
            const __m256i w0 = _mm256_or_si256(_mm256_and_si256(q4bits1, m15), q4h_0);
            const __m256i w1 = _mm256_or_si256(_mm256_and_si256(q4bits2, m15), q4h_1);
            const __m256i w2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4bits1, 4), m15), q4h_2);
            const __m256i w3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4bits2, 4), m15), q4h_3);
            const int is = 4 * j;
            const __m256i s0 = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(scales, _mm_loadu_si128((const __m128i *) k_shuffle_q6 + is + 0)));
            const __m256i s1 = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(scales, _mm_loadu_si128((const __m128i *) k_shuffle_q6 + is + 1)));
            const __m256i s2 = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(scales, _mm_loadu_si128((const __m128i *) k_shuffle_q6 + is + 2)));
            const __m256i s3 = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(scales, _mm_loadu_si128((const __m128i *) k_shuffle_q6 + is + 3)));
            _Pragma("GCC unroll 8") for (int c = 0; c < NC; c++) {
                const int8_t *q8 = q + (int64_t) (t0 + c) * k + 256 * i + 128 * j;
                const __m256i p0 = _mm256_madd_epi16(s0, _mm256_maddubs_epi16(w0, _mm256_loadu_si256((const __m256i *) q8)));
                const __m256i p1 = _mm256_madd_epi16(s1, _mm256_maddubs_epi16(w1, _mm256_loadu_si256((const __m256i *) (q8 + 32))));
                const __m256i p2 = _mm256_madd_epi16(s2, _mm256_maddubs_epi16(w2, _mm256_loadu_si256((const __m256i *) (q8 + 64))));
                const __m256i p3 = _mm256_madd_epi16(s3, _mm256_maddubs_epi16(w3, _mm256_loadu_si256((const __m256i *) (q8 + 96))));
                sumi[c] = _mm256_add_epi32(sumi[c], _mm256_add_epi32(p0, p1));
                sumi[c] = _mm256_add_epi32(sumi[c], _mm256_add_epi32(p2, p3));
            }
        }
        _Pragma("GCC unroll 8") for (int c = 0; c < NC; c++) {
            const int t = t0 + c;
            // the -32 offset of every weight, through the activation sums (ggml's q8sclsub)
            const __m256i q8sums = _mm256_loadu_si256((const __m256i *) (bs + (int64_t) t * (k / 16) + 16 * i));
            const __m256i q8sclsub = _mm256_slli_epi32(_mm256_madd_epi16(q8sums, scales_16), 5);
            const float d = dy[(int64_t) t * nb + i] * xd;
            acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_sub_epi32(sumi[c], q8sclsub)), acc[c]);
        }
    }
    _Pragma("GCC unroll 8") for (int c = 0; c < NC; c++) out[(int64_t) (t0 + c) * ldo + r] = hsum_float_8(acc[c]);
}

// The entry points of the super-block types: jg_q4_K / jg_q6_K take the columns one at a time (a decode step), jg_gemm_*
// eight at a time (a prompt, or a step of several sequences); the floats are the same.
#define ROWS_256(ENTRY, NAME, NCMAX)                                                                                 \
KERNEL void ENTRY(const uint8_t *w, int64_t rowBytes, int r0, int r1, const int8_t *q, const float *d,          \
                      const int16_t *bsums, int k, int n, float *out, int ldo) {                                    \
    const int nb = k / 256;                                                                                         \
    const int tb = col_block(k);                                                                                    \
    /* ggml's q8s: the sums of each 32 activations (pairs of bsums, _mm_hadd_epi16) of a column block, [t][nb][8],   \
       made once per call instead of once per row; tb * nb <= 512 for k <= 32768 */                                  \
    int16_t q8s[512 * 8];                                                                                           \
    for (int t0 = 0; t0 < n; t0 += tb) {                                                                            \
        const int t1 = t0 + tb < n ? t0 + tb : n;                                                                   \
        if ((t1 - t0) * nb > 512) return; /* unreachable: NativeKernels refuses k > 32768 */                        \
        q8_sums_32(bsums, k, t0, t1, q8s);                                                                          \
        for (int r = r0; r < r1; r++) {                                                                             \
            const uint8_t *x = w + rowBytes * r;                                                                    \
            int t = t0;                                                                                             \
            if (NCMAX == 8) {                                                                                       \
                for (; t + 8 <= t1; t += 8) NAME##_cols(x, nb, q, d, bsums, q8s + (t - t0) * nb * 8, k, t, 8, out, ldo, r); \
                if (t + 4 <= t1) { NAME##_cols(x, nb, q, d, bsums, q8s + (t - t0) * nb * 8, k, t, 4, out, ldo, r); t += 4; } \
                if (t + 2 <= t1) { NAME##_cols(x, nb, q, d, bsums, q8s + (t - t0) * nb * 8, k, t, 2, out, ldo, r); t += 2; } \
            }                                                                                                       \
            for (; t < t1; t++) NAME##_cols(x, nb, q, d, bsums, q8s + (t - t0) * nb * 8, k, t, 1, out, ldo, r);     \
        }                                                                                                           \
    }                                                                                                               \
}


ROWS_256(jg_q4_K, q4_K, 1)
ROWS_256(jg_q6_K, q6_K, 1)
ROWS_256(jg_gemm_q4_K, q4_K, 8)
ROWS_256(jg_gemm_q6_K, q6_K, 8)

// Q4_K repacked at load into groups of 8 rows, per super-block of the 8 rows 1184 bytes (8 x 144 + 32: the scales and
// mins unpacked to a byte each; ggml's block_q4_Kx8, ggml-cpu/repack.cpp make_block_q4_Kx8, keeps them at 6 bits):
//   [0, 16) d of rows 0..7 (f16); [16, 32) dmin; [32, 96) scale of sub-block sb of row r at 32 + 8 sb + r;
//   [96, 160) min of sub-blocks 2q, 2q+1 of row r at 96 + 16 q + 2 r (+1); [160, 1184) the quants: for each 64 weights
//   j (32 bytes of a row: low nibbles weights 64 j + l, high 64 j + 32 + l) and each 8 bytes p of them, rows 0..3 then
//   4..7, 8 bytes each: 160 + 256 j + 64 p + 8 r.
enum { Q4KX8 = 1184 };
static inline void scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) { // ggml's get_scale_min_k4
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

void jg_pack_q4_K(const uint8_t *src, uint8_t *dst, int64_t rowBytes, int64_t rows) {
    const int64_t nb = rowBytes / 144;
    for (int64_t g = 0; g + 8 <= rows; g += 8)
        for (int64_t b = 0; b < nb; b++) {
            uint8_t *o = dst + (g / 8) * nb * Q4KX8 + Q4KX8 * b;
            for (int r = 0; r < 8; r++) {
                const uint8_t *x = src + (g + r) * rowBytes + 144 * b;
                memcpy(o + 2 * r, x, 2);
                memcpy(o + 16 + 2 * r, x + 2, 2);
                for (int sb = 0; sb < 8; sb++) {
                    uint8_t sc, mn;
                    scale_min_k4(sb, x + 4, &sc, &mn);
                    o[32 + 8 * sb + r] = sc;
                    o[96 + 16 * (sb / 2) + 2 * r + (sb & 1)] = mn;
                }
                for (int j = 0; j < 4; j++)
                    for (int p = 0; p < 4; p++) memcpy(o + 160 + 256 * j + 64 * p + 8 * r, x + 16 + 32 * j + 8 * p, 8);
            }
        }
}

// One group of 8 packed Q4_K rows with NC columns. Per 64 weights of the rows: the low (high) nibbles of a row's four
// 8-byte pieces times the column's matching 8 activations broadcast (vpmaddubsw, 4 rows a register), the four summed in
// int16 (each at most 2*15*127, the sum fits), times the sub-block scale of each row in vpmaddwd (int32, exact); the
// mins through the column's 32-sums (ggml's q8s) and each row's mins in vpmaddwd. So each row gets the same integers
// as ggml_vec_dot_q4_K_q8_K, scaled in another float order; column t the same floats whatever NC is.
// KDOT: a row's four 8-byte pieces times the column's 8 activations each, summed, times the row's sub-block scale, as
// int32 pair lanes. AVX2: vpmaddubsw, int16 adds (at most 4 * 2 * 15 * 127), vpmaddwd with the int16 scales; VNNI:
// four vpdpbusd, vpmulld with the int32 scales. The same integers either way.
#define KDOT_AVX2(a0, y0, a1, y1, a2, y2, a3, y3, s16, s32)                                                       \
    _mm256_madd_epi16(_mm256_add_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(a0, y0), _mm256_maddubs_epi16(a1, y1)), \
                                       _mm256_add_epi16(_mm256_maddubs_epi16(a2, y2), _mm256_maddubs_epi16(a3, y3))), s16)
#define KDOT_VNNI(a0, y0, a1, y1, a2, y2, a3, y3, s16, s32)                                                       \
    _mm256_mullo_epi32(DOT4_VNNI(a0, y0, a1, y1, a2, y2, a3, y3), s32)
#define Q4_KX8(SFX, ATTR, KDOT) \
ATTR __attribute__((always_inline)) static inline void q4_Kx8_cols##SFX(const uint8_t *x, int nb, const int8_t *q,                                                   \
        const float *dy, const int16_t *q8s, int k, int t0, const int NC, float *out, int ldo, int r) {                                                              \
    const __m256i m4 = _mm256_set1_epi8(0xF);                                                                                                                        \
    const __m256i perm = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);                                                                                                  \
    const __m256i bc03 = _mm256_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);                           \
    /* the same scales once per int32 lane pair (the lanes of vpdpbusd's sums) */                                                                                    \
    const __m256i bc03w = _mm256_setr_epi8(0, 0, 1, 1, 2, 2, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0);                          \
    const __m256i bc47w = _mm256_add_epi8(bc03w, _mm256_set1_epi8(4));                                                                                               \
    __m256 acc[4], accm[4];                                                                                                                                          \
    _Pragma("GCC unroll 4") for (int c = 0; c < NC; c++) { acc[c] = _mm256_setzero_ps(); accm[c] = _mm256_setzero_ps(); }                                            \
    for (int b = 0; b < nb; b++) {                                                                                                                                   \
        const uint8_t *blk = x + Q4KX8 * b;                                                                                                                          \
        const __m256 xd = _mm256_permutevar8x32_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) blk)), perm);                                                   \
        const __m256 xdmin = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (blk + 16)));                                                                         \
        __m256i mv[4];                                                                                                                                               \
        _Pragma("GCC unroll 4") for (int p = 0; p < 4; p++) mv[p] = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *) (blk + 96 + 16 * p)));                    \
        __m256i s03[4], s47[4];                                                                                                                                      \
        _Pragma("GCC unroll 4") for (int c = 0; c < NC; c++) { s03[c] = _mm256_setzero_si256(); s47[c] = _mm256_setzero_si256(); }                                   \
        _Pragma("GCC unroll 4") for (int j = 0; j < 4; j++) {                                                                                                        \
/* the scales of sub-blocks 2j (low nibbles) and 2j+1 (high), each row's in the lanes of its products */                                                             \
            int64_t sl, sh;                                                                                                                                          \
            memcpy(&sl, blk + 32 + 16 * j, 8);                                                                                                                       \
            memcpy(&sh, blk + 40 + 16 * j, 8);                                                                                                                       \
            const __m256i slv = _mm256_set1_epi64x(sl), shv = _mm256_set1_epi64x(sh);                                                                                \
            const __m256i bc47 = _mm256_add_epi8(bc03, _mm256_set1_epi8(4));                                                                                         \
            const __m256i scl03 = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(_mm256_shuffle_epi8(slv, bc03)));                                                      \
            const __m256i scl47 = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(_mm256_shuffle_epi8(slv, bc47)));                                                      \
            const __m256i sch03 = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(_mm256_shuffle_epi8(shv, bc03)));                                                      \
            const __m256i sch47 = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(_mm256_shuffle_epi8(shv, bc47)));                                                      \
            const __m256i scl03w = _mm256_cvtepu8_epi32(_mm256_castsi256_si128(_mm256_shuffle_epi8(slv, bc03w)));                                                    \
            const __m256i scl47w = _mm256_cvtepu8_epi32(_mm256_castsi256_si128(_mm256_shuffle_epi8(slv, bc47w)));                                                    \
            const __m256i sch03w = _mm256_cvtepu8_epi32(_mm256_castsi256_si128(_mm256_shuffle_epi8(shv, bc03w)));                                                    \
            const __m256i sch47w = _mm256_cvtepu8_epi32(_mm256_castsi256_si128(_mm256_shuffle_epi8(shv, bc47w)));                                                    \
            (void) scl03; (void) scl47; (void) sch03; (void) sch47; (void) scl03w; (void) scl47w; (void) sch03w; (void) sch47w;                                      \
            const uint8_t *qs = blk + 160 + 256 * j;                                                                                                                 \
            __m256i lo[8], hi[8]; /* piece p: [2p] rows 0-3, [2p+1] rows 4-7 */                                                                                      \
            _Pragma("GCC unroll 8") for (int i = 0; i < 8; i++) {                                                                                                    \
                const __m256i w = _mm256_loadu_si256((const __m256i *) (qs + 32 * i));                                                                               \
                lo[i] = _mm256_and_si256(w, m4);                                                                                                                     \
                hi[i] = _mm256_and_si256(_mm256_srli_epi16(w, 4), m4);                                                                                               \
            }                                                                                                                                                        \
            _Pragma("GCC unroll 4") for (int c = 0; c < NC; c++) {                                                                                                   \
                const int8_t *y = q + (int64_t) (t0 + c) * k + 256 * b + 64 * j;                                                                                     \
                int64_t v[8];                                                                                                                                        \
                memcpy(v, y, 64);                                                                                                                                    \
                __m256i Y[8]; /* [p] low-nibble activations of piece p, [4 + p] high */                                                                              \
                _Pragma("GCC unroll 8") for (int i = 0; i < 8; i++) Y[i] = _mm256_set1_epi64x(v[i]);                                                                 \
                s03[c] = _mm256_add_epi32(s03[c], _mm256_add_epi32(KDOT(lo[0], Y[0], lo[2], Y[1], lo[4], Y[2], lo[6], Y[3], scl03, scl03w),                          \
                                                                   KDOT(hi[0], Y[4], hi[2], Y[5], hi[4], Y[6], hi[6], Y[7], sch03, sch03w)));                        \
                s47[c] = _mm256_add_epi32(s47[c], _mm256_add_epi32(KDOT(lo[1], Y[0], lo[3], Y[1], lo[5], Y[2], lo[7], Y[3], scl47, scl47w),                          \
                                                                   KDOT(hi[1], Y[4], hi[3], Y[5], hi[5], Y[6], hi[7], Y[7], sch47, sch47w)));                        \
            }                                                                                                                                                        \
        }                                                                                                                                                            \
        _Pragma("GCC unroll 4") for (int c = 0; c < NC; c++) {                                                                                                       \
            const int t = t0 + c;                                                                                                                                    \
            const __m256 d = _mm256_set1_ps(dy[(int64_t) t * nb + b]);                                                                                               \
            acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(xd, d), _mm256_cvtepi32_ps(_mm256_hadd_epi32(s03[c], s47[c])), acc[c]);                                           \
            int32_t ys[4];                                                                                                                                           \
            memcpy(ys, q8s + ((int64_t) c * nb + b) * 8, 16);                                                                                                        \
            __m256i m = _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(mv[0], _mm256_set1_epi32(ys[0])), _mm256_madd_epi16(mv[1], _mm256_set1_epi32(ys[1]))),   \
                                         _mm256_add_epi32(_mm256_madd_epi16(mv[2], _mm256_set1_epi32(ys[2])), _mm256_madd_epi16(mv[3], _mm256_set1_epi32(ys[3]))));  \
            accm[c] = _mm256_fmadd_ps(_mm256_mul_ps(xdmin, d), _mm256_cvtepi32_ps(m), accm[c]);                                                                      \
        }                                                                                                                                                            \
    }                                                                                                                                                                \
    _Pragma("GCC unroll 4") for (int c = 0; c < NC; c++)                                                                                                             \
        _mm256_storeu_ps(out + (int64_t) (t0 + c) * ldo + r, _mm256_sub_ps(_mm256_permutevar8x32_ps(acc[c], perm), accm[c]));                                        \
}                                                                                                                                                                    \
                                                                                                                                                                     \
/* Rows [r0, r1) (multiples of 8) of a packed Q4_K weight (jg_pack_q4_K): the jg_q4_K signature; rowBytes is the */                                                  \
/* unpacked row's (144 per 256 weights); group g of 8 rows starts at (g / 8) * (rowBytes / 144) * 1184. */                                                           \
ATTR void jg_q4_Kx8##SFX(const uint8_t *w, int64_t rowBytes, int r0, int r1, const int8_t *q, const float *d,                                                        \
                      const int16_t *bsums, int k, int n, float *out, int ldo) {                                                                                     \
    (void) rowBytes;                                                                                                                                                 \
    const int nb = k / 256;                                                                                                                                          \
    const int tb = col_block(k);                                                                                                                                     \
    int16_t q8s[512 * 8]; /* the sums of each 32 activations of a column block, [t][nb][8] (as jg_q4_K) */                                                           \
    for (int t0 = 0; t0 < n; t0 += tb) {                                                                                                                             \
        const int t1 = t0 + tb < n ? t0 + tb : n;                                                                                                                    \
        if ((t1 - t0) * nb > 512) return; /* unreachable: NativeKernels refuses k > 32768 */                                                                         \
        q8_sums_32(bsums, k, t0, t1, q8s);                                                                                                                           \
        for (int r = r0; r + 8 <= r1; r += 8) {                                                                                                                      \
            const uint8_t *x = w + (int64_t) (r / 8) * nb * Q4KX8;                                                                                                   \
            int t = t0;                                                                                                                                              \
            for (; t + 4 <= t1; t += 4) q4_Kx8_cols##SFX(x, nb, q, d, q8s + (t - t0) * nb * 8, k, t, 4, out, ldo, r);                                                \
            if (t + 2 <= t1) { q4_Kx8_cols##SFX(x, nb, q, d, q8s + (t - t0) * nb * 8, k, t, 2, out, ldo, r); t += 2; }                                               \
            if (t < t1) q4_Kx8_cols##SFX(x, nb, q, d, q8s + (t - t0) * nb * 8, k, t, 1, out, ldo, r);                                                                \
        }                                                                                                                                                            \
    }                                                                                                                                                                \
}

Q4_KX8(, KERNEL, KDOT_AVX2)
Q4_KX8(_vnni, VNNI, KDOT_VNNI)

// Q8_0 repacked at load into groups of 8 rows, for machines with AVX512-VNNI only: vpdpbusd multiplies unsigned by
// signed bytes into int32 without vpmaddubsw's int16 pair sums, so the weights can go in as w + 128 (each byte XOR 0x80)
// and the offset comes off through the column's block sums (128 * sum(y)), as Q4_0's 8 does; without VNNI the pair
// sums of (w + 128) * y overflow int16, and the row kernel (ggml's sign trick) stays. Per 32-weight block of the 8 rows:
// their 8 scales (f16), then for each 8 bytes p of the block, rows 0..3 then 4..7, 8 bytes each: 16 + 64 p + 8 r. A group
// takes exactly the bytes of its 8 rows (8 x 34 per block). llama.cpp does not repack Q8_0 on x86.
void jg_pack_q8_0(const uint8_t *src, uint8_t *dst, int64_t rowBytes, int64_t rows) {
    const int64_t nb = rowBytes / 34;
    for (int64_t g = 0; g + 8 <= rows; g += 8)
        for (int64_t b = 0; b < nb; b++) {
            uint8_t *o = dst + g * rowBytes + 272 * b;
            for (int r = 0; r < 8; r++) {
                const uint8_t *x = src + (g + r) * rowBytes + 34 * b;
                memcpy(o + 2 * r, x, 2);
                for (int p = 0; p < 4; p++)
                    for (int i = 0; i < 8; i++) o[16 + 64 * p + 8 * r + i] = x[2 + 8 * p + i] ^ 0x80;
            }
        }
}

VNNI __attribute__((always_inline)) static inline void q8_0x8_cols(const uint8_t *x, int nb, const int8_t *q,
        const float *d, const int32_t *s128, int k, int t0, const int NC, float *out, int ldo, int r) {
    const __m256i perm = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
    __m256 acc[4];
    _Pragma("GCC unroll 4") for (int c = 0; c < NC; c++) acc[c] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const uint8_t *blk = x + 272 * b;
        const __m256 dw = _mm256_permutevar8x32_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) blk)), perm);
        __m256i wv[8]; // [2p] rows 0-3, [2p + 1] rows 4-7 of bytes 8p..8p+7
        _Pragma("GCC unroll 8") for (int i = 0; i < 8; i++) wv[i] = _mm256_loadu_si256((const __m256i *) (blk + 16 + 32 * i));
        _Pragma("GCC unroll 4") for (int c = 0; c < NC; c++) {
            const int t = t0 + c;
            const int8_t *y = q + (int64_t) t * k + 32 * b;
            int64_t v[4];
            memcpy(v, y, 32);
            __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
            _Pragma("GCC unroll 4") for (int p = 0; p < 4; p++) {
                const __m256i Y = _mm256_set1_epi64x(v[p]);
                lo = _mm256_dpbusd_epi32(lo, wv[2 * p], Y);
                hi = _mm256_dpbusd_epi32(hi, wv[2 * p + 1], Y);
            }
            __m256i dot = _mm256_sub_epi32(_mm256_hadd_epi32(lo, hi), _mm256_set1_epi32(s128[(int64_t) (t - t0) * nb + b]));
            acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(d[(int64_t) t * nb + b])), _mm256_cvtepi32_ps(dot), acc[c]);
        }
    }
    _Pragma("GCC unroll 4") for (int c = 0; c < NC; c++)
        _mm256_storeu_ps(out + (int64_t) (t0 + c) * ldo + r, _mm256_permutevar8x32_ps(acc[c], perm));
}

// Rows [r0, r1) (multiples of 8) of a packed Q8_0 weight (jg_pack_q8_0): the jg_q8_0 signature.
VNNI void jg_q8_0x8_vnni(const uint8_t *w, int64_t rowBytes, int r0, int r1, const int8_t *q, const float *d,
                         const int16_t *bsums, int k, int n, float *out, int ldo) {
    (void) bsums;
    const int nb = k / 32;
    const int tb = col_block(k);
    enum { CAP = 4096 + 4 * 32 };
    int32_t s128[CAP]; // 128 * sum(y) of each block of a column block's columns, [t - t0][nb]
    for (int t0 = 0; t0 < n; t0 += tb) {
        const int t1 = t0 + tb < n ? t0 + tb : n;
        if ((t1 - t0) * nb > CAP) return; /* unreachable: NativeKernels refuses k > 32768 */
        for (int t = t0; t < t1; t++)
            for (int b = 0; b < nb; b++) s128[(t - t0) * nb + b] = 128 * sum_i8_32(q + (int64_t) t * k + 32 * b);
        for (int r = r0; r + 8 <= r1; r += 8) {
            const uint8_t *x = w + rowBytes * r;
            int t = t0;
            for (; t + 4 <= t1; t += 4) q8_0x8_cols(x, nb, q, d, s128 + (t - t0) * nb, k, t, 4, out, ldo, r);
            if (t + 2 <= t1) { q8_0x8_cols(x, nb, q, d, s128 + (t - t0) * nb, k, t, 2, out, ldo, r); t += 2; }
            if (t < t1) q8_0x8_cols(x, nb, q, d, s128 + (t - t0) * nb, k, t, 1, out, ldo, r);
        }
    }
}
