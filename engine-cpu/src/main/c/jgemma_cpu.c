// Native int8 mat-vec kernels for the CPU backend (x86-64, AVX2 + FMA + F16C): the block loops of ggml's
// ggml-cpu/arch/x86/quants.c (ggml_vec_dot_q8_0_q8_0, _q4_0_q8_0, _q5_0_q8_0, _q4_K_q8_K, _q6_K_q8_K, the __AVX2__
// branches), which multiply unsigned by signed bytes with vpmaddubsw: the Java Vector API has no such operation and
// its 16-bit formulation needs about twice the instructions per block (README, "Speed").
//
// One entry point per weight type, all with one signature (org.jgemma.cpu.NativeKernels):
//   out[t * ldo + r] = dot(weight row r, activation row t)   for r in [r0, r1), t in [0, n)
// w: the weight rows (rowBytes apart); q: int8 activations [n][k]; d: activation scales ([n][k/32] for Q8_0 activations,
// [n][k/256] for Q8_K); bsums: Q8_K's sums of each 16 activations [n][k/16] (int32; unused for the 32-blocks).
// Each column is computed by the same instructions in the same order whatever n is, so a sequence's result does not
// depend on what it is batched with. The library is compiled without -mavx2: only these functions carry the target
// attribute, and the Java side calls them only after jg_cpu_supported() said yes.
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define KERNEL __attribute__((target("avx2,fma,f16c")))

int jg_cpu_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

int jg_abi_version(void) { return 1; }

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

// The 32-weight block types (Q8_0 activations). A row is dotted with NC activation rows at once: each weight block
// is loaded and decoded once (WEIGHTS), then every column does what ggml's single-row loop does with it (COLUMN:
// sign, vpmaddubsw, vpmaddwd, convert, scale FMA into its own accumulator), so column t gets the same float
// whatever NC is. NC is a constant at every call (1, 2 or 4), so the accumulators stay in registers.
#define ROWS_32(NAME, BYTES, WEIGHTS)                                                                              \
KERNEL __attribute__((always_inline)) static inline void NAME##_cols(const uint8_t *x, int nb, const int8_t *q,     \
        const float *d, int k, int t0, const int NC, float *out, int ldo, int r) {                                  \
    __m256 acc[4];                                                                                                  \
    _Pragma("GCC unroll 4") for (int c = 0; c < NC; c++) acc[c] = _mm256_setzero_ps();                              \
    const __m256i ones = _mm256_set1_epi16(1);                                                                      \
    for (int b = 0; b < nb; b++) {                                                                                  \
        const uint8_t *blk = x + (BYTES) * b;                                                                       \
        const float hd = h2f(blk);                                                                                  \
        WEIGHTS                                                                                                     \
        const __m256i ax = _mm256_sign_epi8(qx, qx);                                                                \
        _Pragma("GCC unroll 4") for (int c = 0; c < NC; c++) {                                                      \
            const int t = t0 + c;                                                                                   \
            const __m256 dd = _mm256_set1_ps(hd * d[(int64_t) t * nb + b]);                                         \
            const __m256i qy = _mm256_loadu_si256((const __m256i *) (q + (int64_t) t * k + 32 * b));                \
            const __m256i dot = _mm256_maddubs_epi16(ax, _mm256_sign_epi8(qy, qx));                                 \
            acc[c] = _mm256_fmadd_ps(dd, _mm256_cvtepi32_ps(_mm256_madd_epi16(ones, dot)), acc[c]);                 \
        }                                                                                                           \
    }                                                                                                               \
    _Pragma("GCC unroll 4") for (int c = 0; c < NC; c++) out[(int64_t) (t0 + c) * ldo + r] = hsum_float_8(acc[c]);  \
}                                                                                                                   \
KERNEL void jg_##NAME(const uint8_t *w, int64_t rowBytes, int r0, int r1, const int8_t *q, const float *d,          \
                      const int32_t *bsums, int k, int n, float *out, int ldo) {                                    \
    (void) bsums;                                                                                                   \
    const int nb = k / 32;                                                                                          \
    for (int r = r0; r < r1; r++) {                                                                                 \
        const uint8_t *x = w + rowBytes * r;                                                                        \
        int t = 0;                                                                                                  \
        for (; t + 4 <= n; t += 4) NAME##_cols(x, nb, q, d, k, t, 4, out, ldo, r);                                  \
        if (t + 2 <= n) { NAME##_cols(x, nb, q, d, k, t, 2, out, ldo, r); t += 2; }                                 \
        if (t < n) NAME##_cols(x, nb, q, d, k, t, 1, out, ldo, r);                                                  \
    }                                                                                                               \
}

// Q8_0: d (f16), qs[32]
ROWS_32(q8_0, 34,
        const __m256i qx = _mm256_loadu_si256((const __m256i *) (blk + 2));)

// Q4_0: d (f16), qs[16]: low nibbles are weights 0..15, high nibbles 16..31, minus 8
ROWS_32(q4_0, 18,
        const __m256i qx = _mm256_sub_epi8(bytes_from_nibbles_32(blk + 2), _mm256_set1_epi8(8));)

// Q5_0: d (f16), qh (32 bits), qs[16]: the 5th bit from qh, minus 16 (ggml: andnot(bits, 0xF0) | nibble)
ROWS_32(q5_0, 22,
        const __m256i qx = _mm256_or_si256(bytes_from_nibbles_32(blk + 6),
                _mm256_andnot_si256(bytes_from_bits_32(blk + 2), _mm256_set1_epi8((char) 0xF0)));)

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

// The super-block types (Q8_K activations): one weight row x (nb super-blocks) with one activation row y (scales dy,
// sums of 16 bs), ggml's vec_dot loop; ROWS_256 runs it over the rows and columns of a call.
KERNEL static float q4_K_dot(const uint8_t *x, const int8_t *y, const float *dy, const int32_t *bs, int nb) {
    const uint32_t kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
    const __m256i m4 = _mm256_set1_epi8(0xF);
    __m256 acc = _mm256_setzero_ps();
    float accm = 0;
    for (int i = 0; i < nb; i++) {
        const uint8_t *blk = x + 144 * i; // d, dmin (f16), scales[12], qs[128]
        const float dd = dy[i] * h2f(blk);
        const float dmin = dy[i] * h2f(blk + 2);
        uint32_t utmp[4];
        memcpy(utmp, blk + 4, 12);
        utmp[3] = ((utmp[2] >> 4) & kmask2) | (((utmp[1] >> 6) & kmask3) << 4);
        const uint32_t uaux = utmp[1] & kmask1;
        utmp[1] = (utmp[2] & kmask2) | (((utmp[0] >> 6) & kmask3) << 4);
        utmp[2] = uaux;
        utmp[0] &= kmask1;
        const uint8_t *mins = (const uint8_t *) &utmp[2];
        int32_t msum = 0;
        for (int j = 0; j < 8; j++) msum += mins[j] * (bs[16 * i + 2 * j] + bs[16 * i + 2 * j + 1]);
        accm += dmin * (float) msum;
        const __m256i mins_and_scales = _mm256_cvtepu8_epi16(_mm_set_epi32((int) utmp[3], (int) utmp[2], (int) utmp[1], (int) utmp[0]));
        const __m128i sc128 = _mm256_extracti128_si256(mins_and_scales, 0);
        const __m256i scales = _mm256_insertf128_si256(_mm256_castsi128_si256(sc128), sc128, 1);
        const uint8_t *q4 = blk + 16;
        const int8_t *q8 = y + 256 * i;
        __m256i sumi = _mm256_setzero_si256();
        for (int j = 0; j < 4; j++) {
            const __m256i scale_l = _mm256_shuffle_epi8(scales, _mm256_loadu_si256((const __m256i *) k_shuffle_k4 + 2 * j));
            const __m256i scale_h = _mm256_shuffle_epi8(scales, _mm256_loadu_si256((const __m256i *) k_shuffle_k4 + 2 * j + 1));
            const __m256i q4bits = _mm256_loadu_si256((const __m256i *) q4); q4 += 32;
            const __m256i q4l = _mm256_and_si256(q4bits, m4);
            const __m256i q4h = _mm256_and_si256(_mm256_srli_epi16(q4bits, 4), m4);
            const __m256i q8l = _mm256_loadu_si256((const __m256i *) q8); q8 += 32;
            __m256i p16l = _mm256_madd_epi16(scale_l, _mm256_maddubs_epi16(q4l, q8l));
            const __m256i q8h = _mm256_loadu_si256((const __m256i *) q8); q8 += 32;
            __m256i p16h = _mm256_madd_epi16(scale_h, _mm256_maddubs_epi16(q4h, q8h));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p16l, p16h));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dd), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum_float_8(acc) - accm;
}

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

KERNEL static float q6_K_dot(const uint8_t *x, const int8_t *y, const float *dy, const int32_t *bs, int nb) {
    const __m256i m3 = _mm256_set1_epi8(3), m15 = _mm256_set1_epi8(15);
    __m256 acc = _mm256_setzero_ps();
    float offs = 0;
    for (int i = 0; i < nb; i++) {
        const uint8_t *blk = x + 210 * i; // ql[128], qh[64], scales[16] (int8), d (f16)
        const float dd = dy[i] * h2f(blk + 208);
        const int8_t *sc = (const int8_t *) (blk + 192);
        int32_t osum = 0;
        for (int g = 0; g < 16; g++) osum += sc[g] * bs[16 * i + g];
        offs += dd * 32.0f * (float) osum; // the -32 offset through the activation sums, as ggml's q8sclsub
        const __m128i scales = _mm_loadu_si128((const __m128i *) sc);
        const uint8_t *q4 = blk, *qh = blk + 128;
        const int8_t *q8 = y + 256 * i;
        __m256i sumi = _mm256_setzero_si256();
        int is = 0;
        for (int j = 0; j < 2; j++) {
            const __m256i q4bits1 = _mm256_loadu_si256((const __m256i *) q4); q4 += 32;
            const __m256i q4bits2 = _mm256_loadu_si256((const __m256i *) q4); q4 += 32;
            const __m256i q4bitsH = _mm256_loadu_si256((const __m256i *) qh); qh += 32;
            const __m256i q4h_0 = _mm256_slli_epi16(_mm256_and_si256(q4bitsH, m3), 4);
            const __m256i q4h_1 = _mm256_slli_epi16(_mm256_and_si256(q4bitsH, _mm256_set1_epi8(12)), 2);
            const __m256i q4h_2 = _mm256_and_si256(q4bitsH, _mm256_set1_epi8(48));
            const __m256i q4h_3 = _mm256_srli_epi16(_mm256_and_si256(q4bitsH, _mm256_set1_epi8(-64)), 2);
            const __m256i q4_0 = _mm256_or_si256(_mm256_and_si256(q4bits1, m15), q4h_0);
            const __m256i q4_1 = _mm256_or_si256(_mm256_and_si256(q4bits2, m15), q4h_1);
            const __m256i q4_2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4bits1, 4), m15), q4h_2);
            const __m256i q4_3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4bits2, 4), m15), q4h_3);
            const __m256i q8_0 = _mm256_loadu_si256((const __m256i *) q8); q8 += 32;
            const __m256i q8_1 = _mm256_loadu_si256((const __m256i *) q8); q8 += 32;
            const __m256i q8_2 = _mm256_loadu_si256((const __m256i *) q8); q8 += 32;
            const __m256i q8_3 = _mm256_loadu_si256((const __m256i *) q8); q8 += 32;
            __m256i p16_0 = _mm256_maddubs_epi16(q4_0, q8_0);
            __m256i p16_1 = _mm256_maddubs_epi16(q4_1, q8_1);
            __m256i p16_2 = _mm256_maddubs_epi16(q4_2, q8_2);
            __m256i p16_3 = _mm256_maddubs_epi16(q4_3, q8_3);
            const __m128i scale_0 = _mm_shuffle_epi8(scales, _mm_loadu_si128((const __m128i *) k_shuffle_q6 + is + 0));
            const __m128i scale_1 = _mm_shuffle_epi8(scales, _mm_loadu_si128((const __m128i *) k_shuffle_q6 + is + 1));
            const __m128i scale_2 = _mm_shuffle_epi8(scales, _mm_loadu_si128((const __m128i *) k_shuffle_q6 + is + 2));
            const __m128i scale_3 = _mm_shuffle_epi8(scales, _mm_loadu_si128((const __m128i *) k_shuffle_q6 + is + 3));
            is += 4;
            p16_0 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scale_0), p16_0);
            p16_1 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scale_1), p16_1);
            p16_2 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scale_2), p16_2);
            p16_3 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scale_3), p16_3);
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p16_0, p16_1));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p16_2, p16_3));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dd), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum_float_8(acc) - offs;
}

// The entry points of the super-block types: every (row, column) pair by the same *_dot, so a column's float does not
// depend on n.
#define ROWS_256(NAME)                                                                                               \
KERNEL void jg_##NAME(const uint8_t *w, int64_t rowBytes, int r0, int r1, const int8_t *q, const float *d,          \
                      const int32_t *bsums, int k, int n, float *out, int ldo) {                                    \
    const int nb = k / 256;                                                                                         \
    for (int r = r0; r < r1; r++)                                                                                   \
        for (int t = 0; t < n; t++)                                                                                 \
            out[(int64_t) t * ldo + r] = NAME##_dot(w + rowBytes * r, q + (int64_t) t * k, d + (int64_t) t * nb,   \
                                                    bsums + (int64_t) t * (k / 16), nb);                            \
}

ROWS_256(q4_K)
ROWS_256(q6_K)
