// Registers a kernel of the host build under its CUDA name: HC_KERNEL(rms_norm_f32) records how to call it with a
// packed CUDA parameter buffer, and its parameter sizes (checked against the PTX .param lists by the Java side).
#pragma once
#include <stddef.h>
#include <string.h>

#include <utility>
#include <vector>

namespace hc {
using Invoker = void (*)(const unsigned char *params, const size_t *offsets);

struct KernelEntry {
    const char *name;
    Invoker invoke;
    int n;
    std::vector<size_t> sizes, offsets;
    size_t bytes;
};

std::vector<KernelEntry> &registry();

struct Registrar {
    Registrar(const char *name, Invoker invoke, int n, const size_t *sizes, const size_t *aligns);
};

template <typename T>
static inline T load_param(const unsigned char *p) {
    T v;
    memcpy(&v, p, sizeof(T));
    return v;
}

template <auto F>
struct Invoke;

template <typename... A, void (*F)(A...)>
struct Invoke<F> {
    static constexpr int N = sizeof...(A);
    static constexpr size_t sizes[N + 1] = {sizeof(A)..., 0};
    static constexpr size_t aligns[N + 1] = {alignof(A)..., 1};
    template <size_t... I>
    static void call(const unsigned char *p, const size_t *off, std::index_sequence<I...>) {
        F(load_param<A>(p + off[I])...);
    }
    static void invoke(const unsigned char *p, const size_t *off) { call(p, off, std::index_sequence_for<A...>{}); }
};
}  // namespace hc

#define HC_KERNEL(name) \
    static ::hc::Registrar hc_registrar_##name(#name, &::hc::Invoke<&name>::invoke, ::hc::Invoke<&name>::N, \
                                               ::hc::Invoke<&name>::sizes, ::hc::Invoke<&name>::aligns);
