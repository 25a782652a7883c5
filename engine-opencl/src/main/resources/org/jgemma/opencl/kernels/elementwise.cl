// Element-wise ops over n floats; global size n rounded up to the work-group size.

// GELU(tanh) gate times up (ggml_geglu_split with ggml_gelu_f32, computed in f32 as the GPU backends do).
#define GELU_COEF_A 0.044715f
#define SQRT_2_OVER_PI 0.79788456080286535587989211986876f
__kernel void geglu(const __global float * gate, const __global float * up, __global float * out, ulong n) {
    const size_t i = get_global_id(0);
    if (i >= n) return;
    const float x = gate[i];
    out[i] = 0.5f * x * (1.0f + tanh(SQRT_2_OVER_PI * x * (1.0f + GELU_COEF_A * x * x))) * up[i];
}

// acc += x
__kernel void add(__global float * acc, const __global float * x, ulong n) {
    const size_t i = get_global_id(0);
    if (i >= n) return;
    acc[i] += x[i];
}

// x = cap * tanh(x / cap)
__kernel void softcap(__global float * x, float cap, ulong n) {
    const size_t i = get_global_id(0);
    if (i >= n) return;
    x[i] = cap * tanh(x[i] / cap);
}
