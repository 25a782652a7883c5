// Greedy sampling: out[r] = argmax_j x[r][j], lowest index on ties (NaN never wins). x: [rows][dim].
// One work-group of AM_WG per row.
__kernel void argmax(const __global float * x, int dim, __global int * out) {
    const int r = get_group_id(0);
    const int lid = get_local_id(0);
    const __global float * xr = x + (ulong) r * dim;
    __local float bv[AM_WG];
    __local int bi[AM_WG];
    float best = -INFINITY;
    int idx = -1;
    for (int j = lid; j < dim; j += AM_WG) {
        const float v = xr[j];
        if (v > best || (idx < 0 && !isnan(v))) {
            best = v;
            idx = j;
        }
    }
    bv[lid] = best;
    bi[lid] = idx;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = AM_WG / 2; s > 0; s >>= 1) {
        if (lid < s) {
            const float ov = bv[lid + s];
            const int oi = bi[lid + s];
            if (oi >= 0 && (bi[lid] < 0 || ov > bv[lid] || (ov == bv[lid] && oi < bi[lid]))) {
                bv[lid] = ov;
                bi[lid] = oi;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) out[r] = max(bi[0], 0);
}
