// Causal attention with GQA and an optional sliding window, one pass with an online softmax (flash-attention style).
//   q: [n][nHead][headDim] f32; score = scale · (q·k); kc, vc: [slots][kvDim] f16 with kvDim = nKvHead*headDim;
//   pos: [n]; out: [n][nHead][headDim] f32. Work-group (ATT_WG) per (head h, query t).
//   Query h reads KV head h / (nHead/nKvHead). Query position p sees key positions p' in [lo, p] with
//   lo = max(0, p - window + 1) when window > 0 (llama_hparams::is_masked_swa: masked iff p - p' >= n_swa), and
//   never older than p - slots + 1 (those slots were overwritten); key p' is in slot p' % slots.
//   Keys are taken ATT_WG at a time: work-item j scores key j of the tile, then each work-item accumulates
//   ATT_DPT of the head's output dimensions (headDim <= ATT_WG * ATT_DPT).
__kernel void attention(const __global float * q, const __global half * kc, const __global half * vc, int slots,
                        const __global int * pos, int nHead, int nKvHead, int headDim, int window,
                        float scale, __global float * out) {
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
    int lo = window > 0 ? max(0, P - window + 1) : 0;
    lo = max(lo, P - slots + 1);
    float m = -INFINITY;
    float l = 0.0f;
    float acc[ATT_DPT];
    for (int k = 0; k < ATT_DPT; k++) acc[k] = 0.0f;

    for (int base = lo; base <= P; base += ATT_WG) {
        const int cnt = min(ATT_WG, P - base + 1);
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
