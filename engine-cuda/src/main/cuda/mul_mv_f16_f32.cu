// F16 weights × f32 activations, float accumulation (ggml-cuda mmv.cu mul_mat_vec for float types).
#include "mul_mv.cuh"

MUL_MV_F(mul_mv_f16_f32, TF16)
