// Q3_K weights × f32 activations (quantized to q8_1 on the device), block layout and dot algebra in quants.cuh
// (ggml-cuda mmvq.cu + vecdotq.cuh vec_dot_q3_K_q8_1).
#include "mul_mv.cuh"

MUL_MV_Q(mul_mv_q3_k_f32, TQ3_K)
