// Helpers shared by the jgemma CUDA kernels (after ggml-cuda common.cuh: warp_reduce_sum/max, get_int_b2/b4).
// Compiled to PTX with: nvcc -ptx -arch=compute_80 -O3 (see build-ptx.sh); no fast-math, so expf/tanhf/cosf are the
// accurate versions.
#pragma once
#include <cuda_fp16.h>
#include <stdint.h>

#define WARP_SIZE 32

static __device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}

static __device__ __forceinline__ float warp_max(float x) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
    return x;
}

// IEEE half at a 2-byte aligned address.
static __device__ __forceinline__ float load_f16(const uint8_t *p) {
    return __half2float(*reinterpret_cast<const __half *>(p));
}

// bf16: the upper 16 bits of a float32.
static __device__ __forceinline__ float bf16_to_f32(uint16_t b) {
    return __uint_as_float(((uint32_t) b) << 16);
}

// A little-endian int at an address only 2-byte aligned (ggml get_int_b2: blocks of 18, 22, 34, 210 bytes).
static __device__ __forceinline__ int load_int_b2(const uint8_t *p) {
    const uint16_t *q = reinterpret_cast<const uint16_t *>(p);
    return (int) ((uint32_t) q[0] | ((uint32_t) q[1] << 16));
}

// A little-endian int at a 4-byte aligned address (ggml get_int_b4).
static __device__ __forceinline__ int load_int_b4(const uint8_t *p) {
    return *reinterpret_cast<const int *>(p);
}

// Spreads the low 4 bits of b to bit 4 of each byte (the fifth bit of four 5-bit quants; ggml vecdotq.cuh q5_0).
// Unsigned shifts: b may be negative (qh >> k of a sign-extended int), and a left shift of a negative int is undefined
// in C++17 (UBSan caught it in the host build of the kernels).
static __device__ __forceinline__ int spread_bit4(int b) {
    const uint32_t u = (uint32_t) b;
    return (int) (((u << 4) & 0x00000010u) | ((u << 11) & 0x00001000u) | ((u << 18) & 0x00100000u) | ((u << 25) & 0x10000000u));
}

// Q4_K / Q5_K 6-bit scale and min of sub-block j (0..7) from scales[12] (ggml-quants.c get_scale_min_k4).
static __device__ __forceinline__ void scale_min_k4(int j, const uint8_t *q, int *sc, int *mn) {
    if (j < 4) {
        *sc = q[j] & 63;
        *mn = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
        *mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}
