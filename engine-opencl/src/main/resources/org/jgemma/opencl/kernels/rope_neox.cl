// NeoX RoPE in place (ggml_compute_forward_rope_flt, rotate_pairs with n_offset = n_dims/2):
//   x: [n][nHeads][headDim] f32; pos: [n] int. Global (headDim/2, nHeads, n).
//   theta_i = p · theta_scale^i by repeated float multiplication as ggml_rope_cache_init does, with
//   theta_scale = powf(base, -2/headDim) from the host; angle = freq_scale · theta_i (no YaRN: ext_factor 0, mscale 1).
__kernel void rope_neox(__global float * x, int nHeads, int headDim, const __global int * pos, float theta_scale,
                        float freq_scale) {
    const int i = get_global_id(0);
    const int h = get_global_id(1);
    const int t = get_global_id(2);
    float theta = (float) pos[t];
    for (int k = 0; k < i; k++) theta *= theta_scale;
    const float a = freq_scale * theta;
    const float c = cos(a);
    const float s = sin(a);
    __global float * p = x + ((ulong) t * nHeads + h) * headDim;
    const int half_dim = headDim / 2;
    const float x0 = p[i];
    const float x1 = p[i + half_dim];
    p[i] = x0 * c - x1 * s;
    p[i + half_dim] = x0 * s + x1 * c;
}
