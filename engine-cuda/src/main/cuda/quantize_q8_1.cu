// f32 activations -> q8_1 blocks of 32 (ggml-cuda quantize.cu quantize_q8_1): per block d = amax/127,
// q = roundf(x/d) (halves away from zero), s = d·Σq. One warp per block, one element per lane.
// x: [nblocks·32] floats; qs: int8 [nblocks·32]; ds: float2 [nblocks] = (d, s).
#include "common.cuh"

extern "C" __global__ void quantize_q8_1(const float *__restrict__ x, int8_t *__restrict__ qs, float2 *__restrict__ ds,
                                         long long nblocks) {
    const long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    const long long b = i / 32;
    if (b >= nblocks) return;  // whole warps exit together: nblocks·32 elements, warps aligned to blocks
    const float xi = x[i];
    const float amax = warp_max(fabsf(xi));
    const float d = amax / 127.0f;
    const int q = amax == 0.0f ? 0 : (int) roundf(xi / d);
    qs[i] = (int8_t) q;
    const float sum = warp_sum((float) q);
    if ((threadIdx.x & 31) == 0) ds[b] = make_float2(d, d * sum);
}
