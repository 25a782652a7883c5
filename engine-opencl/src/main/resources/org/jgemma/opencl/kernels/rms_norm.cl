// RMSNorm with weight (ggml_compute_forward_rms_norm_f32 then mul): out = x * (1/sqrt(mean(x²) + eps)) * w.
//   x, out: [rows][dim] f32 (out may be x); w: [dim] f32. One work-group of RN_WG per row.
//   The CPU sums in double; here each work-item sums in float and the partials are added as a tree.
__kernel void rms_norm(const __global float * x, const __global float * w, int dim, float eps, __global float * out) {
    const int r = get_group_id(0);
    const int lid = get_local_id(0);
    const __global float * xr = x + (ulong) r * dim;
    __global float * yr = out + (ulong) r * dim;
    __local float part[RN_WG];
    float s = 0.0f;
    for (int i = lid; i < dim; i += RN_WG) s = fma(xr[i], xr[i], s);
    part[lid] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = RN_WG / 2; k > 0; k >>= 1) {
        if (lid < k) part[lid] += part[lid + k];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float scale = 1.0f / sqrt(part[0] / dim + eps);
    for (int i = lid; i < dim; i += RN_WG) yr[i] = (xr[i] * scale) * w[i];
}
