// Q5_1 weights × f32 activations (quantized to q8_1 on the device), block layout and dot algebra in quants.cuh
// (ggml-cuda mmvq.cu + vecdotq.cuh vec_dot_q5_1_q8_1).
#include "mul_mv.cuh"

MUL_MV_Q(mul_mv_q5_1_f32, TQ5_1)
