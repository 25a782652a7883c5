// The CUDA built-ins for g++: compiles the unchanged kernels (../*.cu) for the CPU, so the host driver
// (org.jgemma.cuda.HostDriver) runs the real kernels in CI without a GPU. Force-included by build-host.sh
// (g++ -include cuda_host.h); <cuda_fp16.h> resolves to the shim of the same name in this directory.
//
// Execution model (runtime.cpp): a block's threads are fibers on one OS thread; a fiber runs until it reaches a
// barrier (__syncthreads, or a warp operation: shuffle, vote, __syncwarp) and the others run until they reach it too,
// so a missing __syncthreads makes a thread read shared memory another thread has not written yet (or a previous
// block left) and the result comes out wrong. Blocks of a grid run on several OS threads at once (atomics are real).
// The order in which fibers run between barriers alternates from block to block (ascending, descending), so a
// read-before-write race shows up in half of the blocks whichever way round it is. Warp shuffles and votes go through
// a per-warp exchange slot: every lane of the mask writes, waits for the others, reads. Divergent barriers (a lane
// of the mask has exited, lanes at different warp operations, __syncthreads with exited threads) and deadlocks stop
// the launch with an error naming the kernel, block and thread. Types have CUDA's sizes and alignments
// (float2 8 bytes, int4 16, __half2 4), so UBSan (-fsanitize=alignment) catches misaligned vector loads.
#pragma once
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
// per block: one instance per OS thread, and an OS thread runs one block at a time
#define __shared__ static thread_local
#define __constant__ static const

struct uint3 { unsigned x, y, z; };
struct dim3 { unsigned x, y, z; };
struct alignas(8) float2 { float x, y; };
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(8) int2 { int x, y; };
struct alignas(16) int4 { int x, y, z, w; };
struct alignas(2) __half { uint16_t __x; };
struct alignas(4) __half2 { __half x, y; };

static inline float2 make_float2(float x, float y) { return float2{x, y}; }
static inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
static inline int2 make_int2(int x, int y) { return int2{x, y}; }
static inline int4 make_int4(int x, int y, int z, int w) { return int4{x, y, z, w}; }

namespace hc {
// What a running CUDA thread sees: its indices and its block's shape (runtime.cpp fills it for each fiber).
struct ThreadCtx {
    uint3 tid;
    uint3 bid;
    dim3 bdim;
    dim3 gdim;
};
// Each fiber's stack lies in its own SLOT-aligned slot of SLOT bytes; the top 64 bytes hold this header, so a thread
// finds its context from its stack pointer alone (no thread-local lookup on every threadIdx).
#if defined(__SANITIZE_ADDRESS__)
constexpr uintptr_t SLOT = (uintptr_t) 1 << 20;
#else
constexpr uintptr_t SLOT = (uintptr_t) 1 << 17;
#endif
struct Header {
    ThreadCtx *ctx;
    void *fiber;
    void *worker;
};
static inline Header *header() {
    uintptr_t sp;
    asm("mov %%rsp, %0" : "=r"(sp));
    return reinterpret_cast<Header *>((sp & ~(SLOT - 1)) + SLOT - 64);
}
void syncthreads();
// Warp exchange: the lanes of mask each publish v, wait for each other, and get the 32 published values (valid until
// the caller's next warp operation). Checks the mask (calling lane in it, named lanes alive, same operation count).
const uint64_t *warp_exchange(unsigned mask, uint64_t v);
// The value lane `src` published (an error, stopping the launch, if src is not in the mask).
uint64_t warp_value(const uint64_t *slots, unsigned mask, int src);
[[noreturn]] void fail(const char *what);
}  // namespace hc

#define threadIdx (::hc::header()->ctx->tid)
#define blockIdx (::hc::header()->ctx->bid)
#define blockDim (::hc::header()->ctx->bdim)
#define gridDim (::hc::header()->ctx->gdim)
#define warpSize 32

static inline void __syncthreads() { ::hc::syncthreads(); }
static inline void __syncwarp(unsigned mask = 0xffffffffu) { ::hc::warp_exchange(mask, 0); }
static inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

namespace hc {
static inline int lane_id() {
    const ThreadCtx *c = header()->ctx;
    return (int) ((c->tid.x + c->bdim.x * (c->tid.y + c->bdim.y * c->tid.z)) & 31);
}
template <typename T>
static inline uint64_t to_bits(T v) {
    static_assert(sizeof(T) <= 8, "warp shuffles of at most 8 bytes");
    uint64_t b = 0;
    memcpy(&b, &v, sizeof(T));
    return b;
}
template <typename T>
static inline T from_bits(uint64_t b) {
    T v;
    memcpy(&v, &b, sizeof(T));
    return v;
}
}  // namespace hc

// __shfl_*_sync semantics of the CUDA C++ Programming Guide (warp shuffle functions): width segments the warp; a
// source lane outside the caller's segment returns the caller's own value.
template <typename T>
static inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
    const int lane = ::hc::lane_id();
    const uint64_t *s = ::hc::warp_exchange(mask, ::hc::to_bits(v));
    return ::hc::from_bits<T>(::hc::warp_value(s, mask, (lane & ~(width - 1)) + (src & (width - 1))));
}
template <typename T>
static inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
    const int lane = ::hc::lane_id();
    const uint64_t *s = ::hc::warp_exchange(mask, ::hc::to_bits(v));
    const int src = lane ^ lane_mask;
    if ((src & ~(width - 1)) != (lane & ~(width - 1))) return v;
    return ::hc::from_bits<T>(::hc::warp_value(s, mask, src));
}
template <typename T>
static inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    const int lane = ::hc::lane_id();
    const uint64_t *s = ::hc::warp_exchange(mask, ::hc::to_bits(v));
    if ((lane & (width - 1)) + (int) delta >= width) return v;
    return ::hc::from_bits<T>(::hc::warp_value(s, mask, lane + (int) delta));
}
template <typename T>
static inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    const int lane = ::hc::lane_id();
    const uint64_t *s = ::hc::warp_exchange(mask, ::hc::to_bits(v));
    if ((lane & (width - 1)) < (int) delta) return v;
    return ::hc::from_bits<T>(::hc::warp_value(s, mask, lane - (int) delta));
}
static inline unsigned __ballot_sync(unsigned mask, int pred) {
    const uint64_t *s = ::hc::warp_exchange(mask, pred != 0);
    unsigned r = 0;
    for (int l = 0; l < 32; l++)
        if (((mask >> l) & 1) && ::hc::warp_value(s, mask, l)) r |= 1u << l;
    return r;
}
static inline int __all_sync(unsigned mask, int pred) { return __ballot_sync(mask, pred) == mask; }
static inline int __any_sync(unsigned mask, int pred) { return __ballot_sync(mask, pred) != 0; }

// ---- bit casts, integer SIMD ----
static inline float __uint_as_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t __float_as_uint(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
static inline int __float_as_int(float f) { int i; memcpy(&i, &f, 4); return i; }

// c + Σ a.byte[i]·b.byte[i], signed bytes (PTX dp4a.s32.s32)
static inline int __dp4a(int a, int b, int c) {
    for (int i = 0; i < 4; i++) c += (int) (int8_t) (a >> (8 * i)) * (int) (int8_t) (b >> (8 * i));
    return c;
}
static inline unsigned __dp4a(unsigned a, unsigned b, unsigned c) {
    for (int i = 0; i < 4; i++) c += ((a >> (8 * i)) & 0xFF) * ((b >> (8 * i)) & 0xFF);
    return c;
}
// per byte: saturate_s8(a.byte − b.byte) (PTX vsub4 .sat on signed bytes)
static inline unsigned __vsubss4(unsigned a, unsigned b) {
    unsigned r = 0;
    for (int i = 0; i < 4; i++) {
        int d = (int) (int8_t) (a >> (8 * i)) - (int) (int8_t) (b >> (8 * i));
        d = d < -128 ? -128 : d > 127 ? 127 : d;
        r |= ((unsigned) d & 0xFF) << (8 * i);
    }
    return r;
}
static inline int __vsubss4(int a, int b) { return (int) __vsubss4((unsigned) a, (unsigned) b); }

template <typename T>
static inline T __ldg(const T *p) { return *p; }

// ---- math: CUDA's overloads and fast intrinsics (accurate versions here) ----
static inline int min(int a, int b) { return a < b ? a : b; }
static inline int max(int a, int b) { return a > b ? a : b; }
static inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
static inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
static inline long long min(long long a, long long b) { return a < b ? a : b; }
static inline long long max(long long a, long long b) { return a > b ? a : b; }
static inline float min(float a, float b) { return fminf(a, b); }
static inline float max(float a, float b) { return fmaxf(a, b); }
// __expf, __logf, __sinf, __cosf, __powf: glibc's <math.h> declares them (its accurate versions)
static inline float __fdividef(float a, float b) { return a / b; }
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline float __saturatef(float x) { return x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x; }

// ---- atomics (blocks run concurrently on several OS threads) ----
static inline int atomicAdd(int *p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
static inline unsigned atomicAdd(unsigned *p, unsigned v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
static inline float atomicAdd(float *p, float v) {
    uint32_t old = __atomic_load_n(reinterpret_cast<uint32_t *>(p), __ATOMIC_SEQ_CST), want;
    do want = __float_as_uint(__uint_as_float(old) + v);
    while (!__atomic_compare_exchange_n(reinterpret_cast<uint32_t *>(p), &old, want, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    return __uint_as_float(old);
}
static inline int atomicMax(int *p, int v) {
    int old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
    while (old < v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
    return old;
}
static inline int atomicExch(int *p, int v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
static inline int atomicCAS(int *p, int expected, int v) {
    __atomic_compare_exchange_n(p, &expected, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return expected;
}
static inline unsigned atomicCAS(unsigned *p, unsigned expected, unsigned v) {
    __atomic_compare_exchange_n(p, &expected, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return expected;
}

// ---- IEEE half (bit-exact conversions, round to nearest even as __float2half) ----
static inline float __half2float(__half h) {
    const uint32_t s = (uint32_t) (h.__x & 0x8000) << 16, e = (h.__x >> 10) & 0x1F, m = h.__x & 0x3FF;
    if (e == 0x1F) return __uint_as_float(s | 0x7F800000u | (m << 13));               // inf, nan
    if (e != 0) return __uint_as_float(s | ((e + 112) << 23) | (m << 13));             // normal
    return __uint_as_float(s) + (s ? -1.0f : 1.0f) * (float) m * 5.9604644775390625e-8f;  // subnormal: m·2^-24
}
static inline __half __float2half(float f) {
    const uint32_t x = __float_as_uint(f), s = (x >> 16) & 0x8000;
    uint32_t a = x & 0x7FFFFFFFu;
    __half h;
    if (a >= 0x7F800000u) { h.__x = (uint16_t) (s | 0x7C00 | (a > 0x7F800000u ? 0x200 : 0)); return h; }
    if (a >= 0x477FF000u) { h.__x = (uint16_t) (s | 0x7C00); return h; }  // rounds to ≥ 65520: inf
    if (a < 0x38800000u) {                                              // below 2^-14: subnormal or zero
        const float v = __uint_as_float(a) * 16777216.0f;                // in units of 2^-24, exact
        h.__x = (uint16_t) (s | (uint32_t) nearbyintf(v));               // default rounding: to nearest even
        return h;
    }
    const uint32_t mant = a & 0x7FFFFF, exp = (a >> 23) - 112;
    uint32_t r = (exp << 10) | (mant >> 13);
    const uint32_t rest = mant & 0x1FFF;
    if (rest > 0x1000 || (rest == 0x1000 && (r & 1))) r++;
    h.__x = (uint16_t) (s | r);
    return h;
}
static inline __half __float2half_rn(float f) { return __float2half(f); }
static inline float2 __half22float2(__half2 h) { return make_float2(__half2float(h.x), __half2float(h.y)); }
static inline __half2 __floats2half2_rn(float a, float b) { return __half2{__float2half(a), __float2half(b)}; }
static inline __half2 __float22half2_rn(float2 f) { return __floats2half2_rn(f.x, f.y); }
static inline float __low2float(__half2 h) { return __half2float(h.x); }
static inline float __high2float(__half2 h) { return __half2float(h.y); }
