// f32 activations -> q8_1 blocks of 32 (ggml-cuda quantize.cu quantize_q8_1): per block d = amax/127,
// q = roundf(x/d) (halves away from zero), s = d·Σq. One warp per block, one element per lane.
// x: [nblocks·32] floats; qs: int8 [nblocks·32]; ds: float2 [nblocks] = (d, s).
#include "common.cuh"

extern "C" __global__ void quantize_q8_1(const float *__restrict__ x, int8_t *__restrict__ qs, float2 *__restrict__ ds,
                                         long long nblocks) {
    const long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    const long long b = i / 32;
    if (b >= nblocks) return;  // whole warps exit together: nblocks·32 elements, warps aligned to blocks
    quantize_group_q8_1(x[i], qs + b * 32, ds + b);
}
