package org.jgemma.cuda;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jgemma.ggml.GgmlType;

/**
 * The kernels: their names (the {@code extern "C"} entries of src/main/cuda/*.cu), and a launch checked against the
 * kernel's PTX signature and counted. {@link #names()} lists every kernel the backend may launch, so a test checks
 * them against the committed PTX without a GPU.
 */
final class Kernels {
    static final String QUANTIZE = "quantize_q8_1", RMS_NORM = "rms_norm_f32", ROPE = "rope_neox_f32",
            GEGLU = "geglu_f32", ADD = "add_f32", SOFTCAP = "softcap_f32", COPY = "copy_f32",
            KV_APPEND = "kv_append_f16", FA_SPLIT = "flash_attn_split_f16",
            ARGMAX = "argmax_f32", ATTN_NON_CAUSAL = "attn_non_causal_f16";
    /** The fused kernels of the decode step (FusedOps; rms_norm.cu, qk_norm_rope_kv.cu, flash_attn_ext_f16.cu). */
    static final String RMS_NORM_Q8 = "rms_norm_q8_f32", NORM_ADD_NORM = "rms_norm_add_norm_q8_f32",
            QK_NORM_ROPE_KV = "qk_norm_rope_kv_f32", FA_COMBINE_Q8 = "flash_attn_combine_q8_f32";
    /** Prompt chunks of more than 8 tokens (PrefillOps): tiled mat-mat, query-tile attention. */
    static final String MUL_MM_Q = "mul_mm_q_f32", MUL_MM_Q2_K = "mul_mm_q2_k_f32", MUL_MM_F = "mul_mm_f_f32",
            FA_TILE = "flash_attn_tile_f16", FA_TILE_COMBINE = "flash_attn_tile_combine_f32";

    /** Weight types of matmul and embed (mul_mv_*_f32.cu, get_rows.cu). */
    static final Set<GgmlType> WEIGHT_TYPES = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0,
            GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K,
            GgmlType.Q5_K, GgmlType.Q6_K);

    static String suffix(GgmlType t) {
        return t.name().toLowerCase(Locale.ROOT);
    }

    /** Whether activations are quantized to q8_1 for this weight type (the block types; floats use f32 activations). */
    static boolean quantized(GgmlType t) {
        return t.blockSize > 1;
    }

    static String mulMv(GgmlType t, int columns) {
        return "mul_mv_" + suffix(t) + "_f32_nc" + columns;
    }

    /** Up to three weight matrices of any block types on one q8_1 input in one grid (mul_mv_fused.cu). */
    static String mulMv3(int columns) {
        return "mul_mv3_q_nc" + columns;
    }

    /** Gate and up rows with the GELU(tanh)·up epilogue (mul_mv_fused.cu). */
    static String mulMvGeglu(int columns) {
        return "mul_mv_geglu_q_nc" + columns;
    }

    static String getRows(GgmlType t) {
        return "get_rows_" + suffix(t);
    }

    static List<String> names() {
        List<String> n = new ArrayList<>(List.of(QUANTIZE, RMS_NORM, ROPE, GEGLU, ADD, SOFTCAP, COPY, KV_APPEND, FA_SPLIT,
                ARGMAX, ATTN_NON_CAUSAL, MUL_MM_Q, MUL_MM_Q2_K, MUL_MM_F, FA_TILE, FA_TILE_COMBINE,
                RMS_NORM_Q8, NORM_ADD_NORM, QK_NORM_ROPE_KV, FA_COMBINE_Q8));
        for (int c : Launch.MV_COLUMNS) {
            n.add(mulMv3(c));
            n.add(mulMvGeglu(c));
        }
        for (GgmlType t : WEIGHT_TYPES) {
            n.add(getRows(t));
            for (int c : Launch.MV_COLUMNS) n.add(mulMv(t, c));
        }
        return n;
    }

    /** One launch of a recorded step: the kernel and the device bytes it reads (estimated from the shapes; -1: not modelled). */
    record StepLaunch(String kernel, long bytesRead) {}

    private final CudaDriver driver;
    private final Map<String, KernelArgs.Signature> signatures = Ptx.signatures();
    private List<StepLaunch> recorded;  // launches of the step being captured, or null
    private long launches;
    private long pendingBytes = -1;

    Kernels(CudaDriver driver) {
        this.driver = driver;
    }

    /**
     * Launches {@code name}: args are DevPtr, Integer, Long or Float in the kernel's order, checked against its PTX
     * .param list and packed (KernelArgs), then handed to the driver.
     */
    void launch(String name, int gx, int gy, int gz, int bx, int by, int bz, Object... args) {
        long bytes = pendingBytes;
        pendingBytes = -1;
        KernelArgs.Signature sig = signatures.get(name);
        if (sig == null) throw new IllegalStateException("no kernel " + name + " in the PTX modules");
        driver.launch(name, gx, gy, gz, bx, by, bz, KernelArgs.pack(sig, args));
        if (recorded != null) recorded.add(new StepLaunch(name, bytes));
        else counted(1);
    }

    /**
     * The device bytes the next {@link #launch} reads (weights, activations, KV cache; writes not counted), for the
     * step model {@code bench --json} prints: an estimate from the shapes, so a reader can bound the step by bandwidth.
     */
    Kernels reads(long bytes) {
        pendingBytes = bytes;
        return this;
    }

    /** Kernel launches that ran (eager ones plus every node of every graph replay) since the backend opened. */
    long launches() {
        return launches;
    }

    void counted(long n) {
        launches += n;
        TOTAL.add(n);
    }

    /** Starts (true) or ends (false) recording the launches of a capture; ending returns them (else null). */
    List<StepLaunch> record(boolean on) {
        List<StepLaunch> r = recorded;
        recorded = on ? new ArrayList<>() : null;
        return on ? null : r;
    }

    /** The launches of the step captured last by any CUDA backend of this process (bench --json's step model). */
    static volatile List<StepLaunch> lastStep = List.of();

    static final java.util.concurrent.atomic.LongAdder TOTAL = new java.util.concurrent.atomic.LongAdder();
}
