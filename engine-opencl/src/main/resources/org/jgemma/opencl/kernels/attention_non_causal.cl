// Non-causal attention: the image chunk of a Gemma 3 vision prompt (Backend.attentionNonCausal). llama.cpp decodes that
// chunk with causal attention off (tools/mtmd/mtmd-helper.cpp :: mtmd_helper_decode_image_chunk calls
// llama_set_causal_attn(false)); src/llama-kv-cache.cpp :: set_input_kq_mask then masks only the sliding window, measured
// from the query's own position. attention.cl with the causal limit lifted to `horizon`:
//   query position P sees key positions p' in [lo, last], last = max(P, horizon) (horizon < 0: causal),
//   lo = max(0, P - window + 1) when window > 0, and never older than last - slots + 1 (those slots hold newer keys);
//   key p' is in slot p' % slots. Layouts, work-groups and the online softmax as in attention.cl.
__kernel void attention_non_causal(const __global float * q, const __global half * kc, const __global half * vc, int slots,
                                   const __global int * pos, int nHead, int nKvHead, int headDim, int window,
                                   int horizon, float scale, __global float * out) {
    const int h = get_group_id(0);
    const int t = get_group_id(1);
    const int lid = get_local_id(0);
    const int kvDim = nKvHead * headDim;
    const int kvh = h / (nHead / nKvHead);
    __local float qs[ATT_WG * ATT_DPT];
    __local float p[ATT_WG];
    __local int slot[ATT_WG];

    const __global float * qr = q + ((ulong) t * nHead + h) * headDim;
    for (int d = lid; d < headDim; d += ATT_WG) qs[d] = qr[d];
    barrier(CLK_LOCAL_MEM_FENCE);

    const int P = pos[t];
    const int last = max(P, horizon);
    int lo = window > 0 ? max(0, P - window + 1) : 0;
    lo = max(lo, last - slots + 1);
    float m = -INFINITY;
    float l = 0.0f;
    float acc[ATT_DPT];
    for (int k = 0; k < ATT_DPT; k++) acc[k] = 0.0f;

    for (int base = lo; base <= last; base += ATT_WG) {
        const int cnt = min(ATT_WG, last - base + 1);
        float s = -INFINITY;
        if (lid < cnt) {
            const int sl = (base + lid) % slots;
            const __global half * kr = kc + (ulong) sl * kvDim + kvh * headDim;
            float dot = 0.0f;
            for (int d = 0; d < headDim; d++) dot = fma(qs[d], vload_half(d, kr), dot);
            s = scale * dot;
            slot[lid] = sl;
        }
        p[lid] = s;
        barrier(CLK_LOCAL_MEM_FENCE);
        float mt = m;
        for (int j = 0; j < cnt; j++) mt = fmax(mt, p[j]);
        barrier(CLK_LOCAL_MEM_FENCE);
        p[lid] = lid < cnt ? exp(s - mt) : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        const float corr = exp(m - mt); // 0 on the first tile (m = -inf)
        l *= corr;
        for (int k = 0; k < ATT_DPT; k++) acc[k] *= corr;
        for (int j = 0; j < cnt; j++) {
            const float pj = p[j];
            l += pj;
            const __global half * vr = vc + (ulong) slot[j] * kvDim + kvh * headDim;
            for (int k = 0; k < ATT_DPT; k++) {
                const int d = lid + k * ATT_WG;
                if (d < headDim) acc[k] = fma(pj, vload_half(d, vr), acc[k]);
            }
        }
        m = mt;
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    __global float * o = out + ((ulong) t * nHead + h) * headDim;
    for (int k = 0; k < ATT_DPT; k++) {
        const int d = lid + k * ATT_WG;
        if (d < headDim) o[d] = acc[k] / l;
    }
}
