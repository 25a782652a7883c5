// KV cache append: the cache holds F16 rows as llama.cpp's default (type_k = type_v = F16), rounded to nearest even.
//   k, v: [n][kvDim] f32; pos: [n]; kc, vc: [slots][kvDim] f16; token t goes to slot pos[t] % slots.
//   Global (kvDim, n).
__kernel void kv_append(const __global float * k, const __global float * v, int kvDim, const __global int * pos,
                        int slots, __global half * kc, __global half * vc) {
    const int i = get_global_id(0);
    const int t = get_global_id(1);
    const ulong src = (ulong) t * kvDim + i;
    const ulong dst = (ulong) (pos[t] % slots) * kvDim + i;
    vstore_half_rte(k[src], dst, kc);
    vstore_half_rte(v[src], dst, vc);
}
