// GGML block layouts read on the device, one struct per type (STYLE 3; layouts in ggml-common.h, FACTS §2).
// Each type gives:
//   QK, BYTES            elements and bytes per block
//   get(row, i)          element i of a row, dequantized as ggml-quants.c dequantize_row_* does (for get_rows)
//   load(blk, sub, w)    the 32 quants of sub-block `sub` (elements 32*sub .. 32*sub+31 of the block) as 8 ints of
//                        4 int8 lanes in element order, plus the factors of the dot product with a q8_1 block:
//                        dot = a.d * (w.d0 * Σ_{i<4} dp4a(w.v[i], a.q[i]) + w.d1 * Σ_{i>=4} dp4a(w.v[i], a.q[i])) + w.m * a.s
//                        where a.s = a.d * Σ a.q (ggml vecdotq.cuh vec_dot_*_q8_1_impl, same algebra).
#pragma once
#include "common.cuh"

struct WSub {
    int v[8];   // 32 quants, 4 per int, element order
    float d0;   // factor of the first 16 quants
    float d1;   // factor of the last 16 quants
    float m;    // factor of the activation block sum
};

struct TQ8_0 {  // d:fp16 @0, qs:int8[32] @2
    static constexpr int QK = 32, BYTES = 34;
    static __device__ __forceinline__ float get(const uint8_t *row, int i) {
        const uint8_t *b = row + (i / 32) * BYTES;
        return (float) (int8_t) b[2 + i % 32] * load_f16(b);
    }
    static __device__ __forceinline__ void load(const uint8_t *b, int, WSub &w) {
#pragma unroll
        for (int i = 0; i < 8; i++) w.v[i] = load_int_b2(b + 2 + 4 * i);
        w.d0 = w.d1 = load_f16(b);
        w.m = 0.0f;
    }
    // quants 8p .. 8p+7 (p = 0..3) as 2 ints, and their factor (mv_q_acc_coop: 4 lanes a block)
    static __device__ __forceinline__ void load_part(const uint8_t *b, int, int p, int &v0, int &v1, float &d) {
        v0 = load_int_b2(b + 2 + 8 * p);
        v1 = load_int_b2(b + 2 + 8 * p + 4);
        d = load_f16(b);
    }
};

struct TQ4_0 {  // d @0, qs[16] @2: element j low nibble of qs[j], element j+16 high nibble
    static constexpr int QK = 32, BYTES = 18;
    static __device__ __forceinline__ float get(const uint8_t *row, int i) {
        const uint8_t *b = row + (i / 32) * BYTES;
        int j = i % 32;
        int q = j < 16 ? (b[2 + j] & 0xF) : (b[2 + j - 16] >> 4);
        return (float) (q - 8) * load_f16(b);
    }
    static __device__ __forceinline__ void load(const uint8_t *b, int, WSub &w) {
#pragma unroll
        for (int i = 0; i < 4; i++) {
            int q = load_int_b2(b + 2 + 4 * i);
            w.v[i] = q & 0x0F0F0F0F;
            w.v[i + 4] = (q >> 4) & 0x0F0F0F0F;
        }
        float d = load_f16(b);
        w.d0 = w.d1 = d;
        w.m = -8.0f * d;  // Σ (q-8)·d·a = d·Σ q·a − 8d·Σ a
    }
};

struct TQ4_1 {  // d @0, m @2, qs[16] @4
    static constexpr int QK = 32, BYTES = 20;
    static __device__ __forceinline__ float get(const uint8_t *row, int i) {
        const uint8_t *b = row + (i / 32) * BYTES;
        int j = i % 32;
        int q = j < 16 ? (b[4 + j] & 0xF) : (b[4 + j - 16] >> 4);
        return (float) q * load_f16(b) + load_f16(b + 2);
    }
    static __device__ __forceinline__ void load(const uint8_t *b, int, WSub &w) {
#pragma unroll
        for (int i = 0; i < 4; i++) {
            int q = load_int_b4(b + 4 + 4 * i);
            w.v[i] = q & 0x0F0F0F0F;
            w.v[i + 4] = (q >> 4) & 0x0F0F0F0F;
        }
        w.d0 = w.d1 = load_f16(b);
        w.m = load_f16(b + 2);
    }
};

struct TQ5_0 {  // d @0, qh[4] @2 (bit j: high bit of element j), qs[16] @6
    static constexpr int QK = 32, BYTES = 22;
    static __device__ __forceinline__ float get(const uint8_t *row, int i) {
        const uint8_t *b = row + (i / 32) * BYTES;
        int j = i % 32;
        uint32_t qh = (uint32_t) load_int_b2(b + 2);
        int q = j < 16 ? (b[6 + j] & 0xF) : (b[6 + j - 16] >> 4);
        q |= ((qh >> j) & 1) << 4;
        return (float) (q - 16) * load_f16(b);
    }
    static __device__ __forceinline__ void load(const uint8_t *b, int, WSub &w) {
        int qh = load_int_b2(b + 2);
#pragma unroll
        for (int i = 0; i < 4; i++) {
            int q = load_int_b2(b + 6 + 4 * i);
            w.v[i] = (q & 0x0F0F0F0F) | spread_bit4(qh >> (4 * i));
            w.v[i + 4] = ((q >> 4) & 0x0F0F0F0F) | spread_bit4(qh >> (4 * i + 16));
        }
        float d = load_f16(b);
        w.d0 = w.d1 = d;
        w.m = -16.0f * d;
    }
};

struct TQ5_1 {  // d @0, m @2, qh[4] @4, qs[16] @8
    static constexpr int QK = 32, BYTES = 24;
    static __device__ __forceinline__ float get(const uint8_t *row, int i) {
        const uint8_t *b = row + (i / 32) * BYTES;
        int j = i % 32;
        uint32_t qh = (uint32_t) load_int_b4(b + 4);
        int q = j < 16 ? (b[8 + j] & 0xF) : (b[8 + j - 16] >> 4);
        q |= ((qh >> j) & 1) << 4;
        return (float) q * load_f16(b) + load_f16(b + 2);
    }
    static __device__ __forceinline__ void load(const uint8_t *b, int, WSub &w) {
        int qh = load_int_b4(b + 4);
#pragma unroll
        for (int i = 0; i < 4; i++) {
            int q = load_int_b4(b + 8 + 4 * i);
            w.v[i] = (q & 0x0F0F0F0F) | spread_bit4(qh >> (4 * i));
            w.v[i + 4] = ((q >> 4) & 0x0F0F0F0F) | spread_bit4(qh >> (4 * i + 16));
        }
        w.d0 = w.d1 = load_f16(b);
        w.m = load_f16(b + 2);
    }
};

// Q2_K: scales[16] @0 (low nibble scale, high nibble min, one pair per 16 elements), qs[64] @16, d @80, dmin @82.
// Half n = sb/4, group g = sb%4 (dequantize_row_q2_K): element l of the group: q = (qs[32n + l] >> 2g) & 3, value
// d·(sc & 0xF)·q − dmin·(sc >> 4) with sc = scales[8n + 2g + l/16]. The mins differ between the two 16-halves of a
// sub-block, so load() leaves w.m = 0 and load_mins() gives one min factor per half, multiplied in mul_mv_q with the
// half's activation sum (ggml vecdotq.cuh vec_dot_q2_K_q8_1_impl_mmvq: dp4a of the replicated min with the q8_1 ints).
struct TQ2_K {
    static constexpr int QK = 256, BYTES = 84;
    static __device__ __forceinline__ float get(const uint8_t *row, int i) {
        const uint8_t *b = row + (i / 256) * BYTES;
        int j = i % 256, n = j / 128, g = (j % 128) / 32, l = j % 32;
        int q = (b[16 + 32 * n + l] >> (2 * g)) & 3;
        int sc = b[8 * n + 2 * g + l / 16];
        return load_f16(b + 80) * (float) (sc & 0xF) * (float) q - load_f16(b + 82) * (float) (sc >> 4);
    }
    static __device__ __forceinline__ void load(const uint8_t *b, int sb, WSub &w) {
        int n = sb / 4, g = sb % 4;
#pragma unroll
        for (int i = 0; i < 8; i++) w.v[i] = (load_int_b4(b + 16 + 32 * n + 4 * i) >> (2 * g)) & 0x03030303;
        float d = load_f16(b + 80);
        w.d0 = d * (float) (b[2 * sb] & 0xF);
        w.d1 = d * (float) (b[2 * sb + 1] & 0xF);
        w.m = 0.0f;
    }
    // factors of the activation sums of the first and the last 16 quants of sub-block sb: −dmin·min
    static __device__ __forceinline__ void load_mins(const uint8_t *b, int sb, float &m0, float &m1) {
        float dmin = load_f16(b + 82);
        m0 = -dmin * (float) (b[2 * sb] >> 4);
        m1 = -dmin * (float) (b[2 * sb + 1] >> 4);
    }
};

// Q3_K: hmask[32] @0, qs[64] @32, scales[12] @96 (16 6-bit scales), d @108. Half n = sb/4, group g = sb%4
// (dequantize_row_q3_K): element l of the group: q = ((qs[32n + l] >> 2g) & 3) − (bit sb of hmask[l] ? 0 : 4), value
// d·(sc[2sb + l/16] − 32)·q; scale k: low 4 bits (scales[k%8] >> 4(k/8)) & 0xF, high 2 bits (scales[8 + k%4] >> 2(k/4)) & 3.
struct TQ3_K {
    static constexpr int QK = 256, BYTES = 110;
    static __device__ __forceinline__ int scale(const uint8_t *b, int k) {
        const uint8_t *s = b + 96;
        return (((s[k % 8] >> (4 * (k / 8))) & 0xF) | (((s[8 + k % 4] >> (2 * (k / 4))) & 3) << 4)) - 32;
    }
    static __device__ __forceinline__ float get(const uint8_t *row, int i) {
        const uint8_t *b = row + (i / 256) * BYTES;
        int j = i % 256, n = j / 128, g = (j % 128) / 32, l = j % 32, sb = 4 * n + g;
        int q = ((b[32 + 32 * n + l] >> (2 * g)) & 3) - (((b[l] >> sb) & 1) ? 0 : 4);
        return load_f16(b + 108) * (float) scale(b, 2 * sb + l / 16) * (float) q;
    }
    static __device__ __forceinline__ void load(const uint8_t *b, int sb, WSub &w) {
        int n = sb / 4, g = sb % 4;
#pragma unroll
        for (int i = 0; i < 8; i++) {
            int lo = (load_int_b2(b + 32 + 32 * n + 4 * i) >> (2 * g)) & 0x03030303;
            int hi = ((load_int_b2(b + 4 * i) >> sb) & 0x01010101) << 2;
            w.v[i] = __vsubss4(lo | hi, 0x04040404);  // q − 4 where the high bit is clear, signed bytes
        }
        float d = load_f16(b + 108);
        w.d0 = d * (float) scale(b, 2 * sb);
        w.d1 = d * (float) scale(b, 2 * sb + 1);
        w.m = 0.0f;
    }
};

// Types whose mins change every 16 quants (Q2_K): mul_mv_q adds the per-half min terms from T::load_mins.
template <typename T> struct MinsPer16 { static constexpr bool value = false; };
template <> struct MinsPer16<TQ2_K> { static constexpr bool value = true; };

// Q4_K: d @0, dmin @2, scales[12] @4, qs[128] @16. Sub-block sb = 2c+h (c = 64-element chunk, h = high nibble):
// y[64c + 32h + l] = d·sc(sb)·q − dmin·mn(sb), q = (qs[32c+l] >> 4h) & 0xF (dequantize_row_q4_K).
struct TQ4_K {
    static constexpr int QK = 256, BYTES = 144;
    static __device__ __forceinline__ float get(const uint8_t *row, int i) {
        const uint8_t *b = row + (i / 256) * BYTES;
        int j = i % 256, c = j / 64, h = (j % 64) / 32, l = j % 32;
        int sc, mn;
        scale_min_k4(2 * c + h, b + 4, &sc, &mn);
        float d1 = load_f16(b) * sc, m1 = load_f16(b + 2) * mn;
        int q = (b[16 + 32 * c + l] >> (4 * h)) & 0xF;
        return d1 * q - m1;
    }
    static __device__ __forceinline__ void load(const uint8_t *b, int sb, WSub &w) {
        int c = sb / 2, sh = 4 * (sb & 1);
        int q[8];
        load_8_ints_b16(b + 16 + 32 * c, q);
#pragma unroll
        for (int i = 0; i < 8; i++) w.v[i] = (q[i] >> sh) & 0x0F0F0F0F;
        int sc, mn;
        scale_min_k4(sb, b + 4, &sc, &mn);
        w.d0 = w.d1 = load_f16(b) * sc;
        w.m = -load_f16(b + 2) * mn;
    }
};

// Q5_K: d @0, dmin @2, scales[12] @4, qh[32] @16, qs[128] @48; the fifth bit of element l of sub-block sb is
// bit sb of qh[l] (qh does not advance between chunks; dequantize_row_q5_K).
struct TQ5_K {
    static constexpr int QK = 256, BYTES = 176;
    static __device__ __forceinline__ float get(const uint8_t *row, int i) {
        const uint8_t *b = row + (i / 256) * BYTES;
        int j = i % 256, c = j / 64, h = (j % 64) / 32, l = j % 32, sb = 2 * c + h;
        int sc, mn;
        scale_min_k4(sb, b + 4, &sc, &mn);
        float d1 = load_f16(b) * sc, m1 = load_f16(b + 2) * mn;
        int q = ((b[48 + 32 * c + l] >> (4 * h)) & 0xF) + (((b[16 + l] >> sb) & 1) << 4);
        return d1 * q - m1;
    }
    static __device__ __forceinline__ void load(const uint8_t *b, int sb, WSub &w) {
        int c = sb / 2, sh = 4 * (sb & 1);
        int ql[8], qh[8];
        load_8_ints_b16(b + 48 + 32 * c, ql);
        load_8_ints_b16(b + 16, qh);
#pragma unroll
        for (int i = 0; i < 8; i++) {
            int lo = (ql[i] >> sh) & 0x0F0F0F0F;
            int hi = ((qh[i] >> sb) & 0x01010101) << 4;
            w.v[i] = lo | hi;
        }
        int sc, mn;
        scale_min_k4(sb, b + 4, &sc, &mn);
        w.d0 = w.d1 = load_f16(b) * sc;
        w.m = -load_f16(b + 2) * mn;
    }
};

// Q6_K: ql[128] @0, qh[64] @128, scales int8[16] @192, d @208. Half n = sb/4, group g = sb%4 (dequantize_row_q6_K):
// element l of the group: q = ((ql[64n + 32(g&1) + l] >> 4(g>>1)) & 0xF) | ((qh[32n + l] >> 2g) & 3) << 4, value
// d·sc[8n + 2g + l/16]·(q − 32).
struct TQ6_K {
    static constexpr int QK = 256, BYTES = 210;
    static __device__ __forceinline__ float get(const uint8_t *row, int i) {
        const uint8_t *b = row + (i / 256) * BYTES;
        int j = i % 256, n = j / 128, g = (j % 128) / 32, l = j % 32;
        int q = ((b[64 * n + 32 * (g & 1) + l] >> (4 * (g >> 1))) & 0xF) | (((b[128 + 32 * n + l] >> (2 * g)) & 3) << 4);
        float sc = (float) (int8_t) b[192 + 8 * n + 2 * g + l / 16];
        return load_f16(b + 208) * sc * (float) (q - 32);
    }
    static __device__ __forceinline__ void load(const uint8_t *b, int sb, WSub &w) {
        int n = sb / 4, g = sb % 4, shl = 4 * (g >> 1), shh = 2 * g;
#pragma unroll
        for (int i = 0; i < 8; i++) {
            int lo = (load_int_b2(b + 64 * n + 32 * (g & 1) + 4 * i) >> shl) & 0x0F0F0F0F;
            int hi = ((load_int_b2(b + 128 + 32 * n + 4 * i) >> shh) & 0x03030303) << 4;
            w.v[i] = __vsubss4(lo | hi, 0x20202020);  // q − 32, signed bytes
        }
        float d = load_f16(b + 208);
        w.d0 = d * (float) (int8_t) b[192 + 8 * n + 2 * g];
        w.d1 = d * (float) (int8_t) b[192 + 8 * n + 2 * g + 1];
        w.m = 0.0f;
    }
    // quants 8p .. 8p+7 (p = 0..3) of sub-block sb as 2 ints, and their factor: d · the scale of their 16-half
    static __device__ __forceinline__ void load_part(const uint8_t *b, int sb, int p, int &v0, int &v1, float &d) {
        const int n = sb / 4, g = sb % 4, shl = 4 * (g >> 1), shh = 2 * g;
        const uint8_t *ql = b + 64 * n + 32 * (g & 1) + 8 * p, *qh = b + 128 + 32 * n + 8 * p;
        v0 = __vsubss4(((load_int_b2(ql) >> shl) & 0x0F0F0F0F) | (((load_int_b2(qh) >> shh) & 0x03030303) << 4), 0x20202020);
        v1 = __vsubss4(((load_int_b2(ql + 4) >> shl) & 0x0F0F0F0F) | (((load_int_b2(qh + 4) >> shh) & 0x03030303) << 4),
                       0x20202020);
        d = load_f16(b + 208) * (float) (int8_t) b[192 + 8 * n + 2 * g + p / 2];
    }
};

// Types whose mat-vec reads a sub-block with 4 lanes, 8 quants each (mv_q_acc_coop): the byte-aligned layouts
// (Q8_0: 34-byte blocks; Q6_K: 210-byte blocks) that a lane-per-sub-block kernel reads in scattered 2-byte pieces.
template <typename T> struct Coop { static constexpr bool value = false; };
template <> struct Coop<TQ8_0> { static constexpr bool value = true; };
template <> struct Coop<TQ6_K> { static constexpr bool value = true; };

// Plain float types (no blocks): used by get_rows and the float mat-vec.
struct TF32 {
    static __device__ __forceinline__ float get(const uint8_t *row, int i) { return reinterpret_cast<const float *>(row)[i]; }
    static __device__ __forceinline__ float2 get2(const uint8_t *row, int p) { return reinterpret_cast<const float2 *>(row)[p]; }
};
struct TF16 {
    static __device__ __forceinline__ float get(const uint8_t *row, int i) { return load_f16(row + 2 * i); }
    static __device__ __forceinline__ float2 get2(const uint8_t *row, int p) {
        return __half22float2(reinterpret_cast<const __half2 *>(row)[p]);
    }
};
struct TBF16 {
    static __device__ __forceinline__ float get(const uint8_t *row, int i) {
        return bf16_to_f32(reinterpret_cast<const uint16_t *>(row)[i]);
    }
    static __device__ __forceinline__ float2 get2(const uint8_t *row, int p) {
        uint32_t u = reinterpret_cast<const uint32_t *>(row)[p];
        return make_float2(__uint_as_float(u << 16), __uint_as_float(u & 0xFFFF0000u));
    }
};
