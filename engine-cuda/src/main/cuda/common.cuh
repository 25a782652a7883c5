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

// Sum over the threads of a block (blockDim.x a multiple of 32, at most 1024), as rms_norm_f32 reduces: each warp's sum
// into partial[warp], then warp 0 adds those. Every thread gets the total; partial may be reused after it returns.
static __device__ __forceinline__ float block_sum(float sum, float *partial) {
    sum = warp_sum(sum);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) partial[warp] = sum;
    __syncthreads();
    if (warp == 0) {
        sum = lane < blockDim.x / 32 ? partial[lane] : 0.0f;
        sum = warp_sum(sum);
        if (lane == 0) partial[0] = sum;
    }
    __syncthreads();
    const float total = partial[0];
    __syncthreads();  // every thread has read partial[0] before a next call overwrites it
    return total;
}

// q8_1 of one 32-element group held one element per lane of a warp (ggml-cuda quantize.cu quantize_q8_1): d = amax/127,
// q = roundf(x/d), s = d·Σq. qs: the group's 32 int8; ds: its (d, s). The kernels that fold the quantization into the
// op producing the vector (norms, attention combine) call this, so their q8_1 equals quantize_q8_1's bit for bit.
static __device__ __forceinline__ void quantize_group_q8_1(float xi, int8_t *qs, float2 *ds) {
    const int lane = threadIdx.x % 32;
    const float amax = warp_max(fabsf(xi));
    const float d = amax / 127.0f;
    const int q = amax == 0.0f ? 0 : (int) roundf(xi / d);
    qs[lane] = (int8_t) q;
    const float sum = warp_sum((float) q);
    if (lane == 0) *ds = make_float2(d, d * sum);
}

#define SQRT_2_OVER_PI 0.79788456080286535587989211986876f
#define GELU_COEF_A 0.044715f

// gelu_tanh(g) · u (ggml_gelu_f32; GPU backends compute it in f32): geglu_f32 and the fused gate/up mat-vec share it.
static __device__ __forceinline__ float gelu_tanh_mul(float g, float u) {
    return 0.5f * g * (1.0f + tanhf(SQRT_2_OVER_PI * g * (1.0f + GELU_COEF_A * g * g))) * u;
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

// 32 bytes at a 16-byte aligned address as 8 little-endian ints, in two 16-byte loads (ggml-cuda mmvq reads whole
// 16-byte chunks where the layout allows). Q4_K (144-byte blocks) and Q5_K (176) keep their quants 16-byte aligned:
// weight rows start 256-byte aligned and hold whole blocks, and qs/qh sit at multiples of 16 within a block.
static __device__ __forceinline__ void load_8_ints_b16(const uint8_t *p, int (&v)[8]) {
    const int4 a = reinterpret_cast<const int4 *>(p)[0], b = reinterpret_cast<const int4 *>(p)[1];
    v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w;
    v[4] = b.x; v[5] = b.y; v[6] = b.z; v[7] = b.w;
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
