package org.jgemma.cuda;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import org.jgemma.ggml.GgmlType;

/**
 * The kernels: their names (the {@code extern "C"} entries of src/main/cuda/*.cu), the PTX modules loaded into the
 * current context, and a checked launch. {@link #names()} lists every kernel the backend may launch, so a test checks
 * them against the committed PTX without a GPU.
 */
final class Kernels implements AutoCloseable {
    static final String QUANTIZE = "quantize_q8_1", RMS_NORM = "rms_norm_f32", ROPE = "rope_neox_f32",
            GEGLU = "geglu_f32", ADD = "add_f32", SOFTCAP = "softcap_f32", COPY = "copy_f32",
            KV_APPEND = "kv_append_f16", FA_SPLIT = "flash_attn_split_f16", FA_COMBINE = "flash_attn_combine_f32",
            ARGMAX = "argmax_f32";

    /** Weight types of matmul and embed (mul_mv_*_f32.cu, get_rows.cu). */
    static final Set<GgmlType> WEIGHT_TYPES = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0,
            GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);

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

    static String getRows(GgmlType t) {
        return "get_rows_" + suffix(t);
    }

    static List<String> names() {
        List<String> n = new ArrayList<>(List.of(QUANTIZE, RMS_NORM, ROPE, GEGLU, ADD, SOFTCAP, COPY, KV_APPEND, FA_SPLIT,
                FA_COMBINE, ARGMAX));
        for (GgmlType t : WEIGHT_TYPES) {
            n.add(getRows(t));
            for (int c : Launch.MV_COLUMNS) n.add(mulMv(t, c));
        }
        return n;
    }

    private final Map<String, String> moduleOf = Ptx.entries();
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<String, CUfunction> functions = new HashMap<>();

    /** Loads every PTX module into the current context (the driver JIT-compiles PTX for the device). */
    Kernels() {
        for (String m : Ptx.modules()) {
            CUmodule module = new CUmodule();
            byte[] image = Ptx.image(m);
            Cu.call("cuModuleLoadData(" + m + ".ptx, JIT from compute_80)", () -> JCudaDriver.cuModuleLoadData(module, image));
            modules.put(m, module);
        }
    }

    CUfunction function(String name) {
        CUfunction f = functions.get(name);
        if (f != null) return f;
        String m = moduleOf.get(name);
        if (m == null) throw new IllegalStateException("no kernel " + name + " in the PTX modules " + modules.keySet());
        CUfunction g = new CUfunction();
        Cu.call("cuModuleGetFunction(" + name + " in " + m + ".ptx)", () -> JCudaDriver.cuModuleGetFunction(g, modules.get(m), name));
        functions.put(name, g);
        return g;
    }

    /** Launches {@code name} on {@code stream}; args are CUdeviceptr, Integer, Long or Float, in the kernel's order. */
    void launch(String name, CUstream stream, int gx, int gy, int gz, int bx, int by, int bz, Object... args) {
        CUfunction f = function(name);
        Pointer[] p = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            p[i] = switch (args[i]) {
                case CUdeviceptr d -> Pointer.to(d);
                case Integer v -> Pointer.to(new int[] {v});
                case Long v -> Pointer.to(new long[] {v});
                case Float v -> Pointer.to(new float[] {v});
                default -> throw new IllegalArgumentException(name + ": argument " + i + " of type " + args[i].getClass());
            };
        }
        Pointer params = Pointer.to(p);
        Cu.call("cuLaunchKernel(" + name + ", grid " + gx + "x" + gy + "x" + gz + ", block " + bx + "x" + by + "x" + bz + ")",
                () -> JCudaDriver.cuLaunchKernel(f, gx, gy, gz, bx, by, bz, 0, stream, params, null));
    }

    @Override
    public void close() {
        for (var e : modules.entrySet()) Cu.call("cuModuleUnload(" + e.getKey() + ")", () -> JCudaDriver.cuModuleUnload(e.getValue()));
        modules.clear();
        functions.clear();
    }
}
