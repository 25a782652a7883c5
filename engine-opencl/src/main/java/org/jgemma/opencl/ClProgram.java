package org.jgemma.opencl;

import static org.jocl.CL.*;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_program;

/**
 * The jgemma kernels, built once per backend for its device: every {@code .cl} resource in {@link #SOURCES}
 * (common.cl first) is handed to one {@code clCreateProgramWithSource}, so the slow compile (seconds on PoCL) happens
 * once. Kernels are created on first use and cached by name. A build failure throws with the compiler's log.
 */
final class ClProgram implements AutoCloseable {
    /** Work-group size of the reducing kernels (mat-vec, RMSNorm, attention, argmax). */
    static final int WG = 64;
    /** Tokens a mat-vec work-group handles at once (weights are read n/NT times for a prompt of n). */
    static final int NT = 4;
    /** Head dimensions one attention work-item accumulates: headDim ≤ WG · ATT_DPT. */
    static final int ATT_DPT = 8;

    static final List<String> SOURCES = List.of("common.cl",
            "mul_mv_f32_f32.cl", "mul_mv_f16_f32.cl", "mul_mv_bf16_f32.cl", "mul_mv_q8_0_f32.cl", "mul_mv_q4_0_f32.cl",
            "mul_mv_q4_1_f32.cl", "mul_mv_q5_0_f32.cl", "mul_mv_q5_1_f32.cl", "mul_mv_q4_k_f32.cl", "mul_mv_q5_k_f32.cl",
            "mul_mv_q6_k_f32.cl",
            "rms_norm.cl", "rope_neox.cl", "kv_append.cl", "attention.cl", "elementwise.cl", "argmax.cl");

    private final cl_program program;
    private final Map<String, cl_kernel> kernels = new HashMap<>();

    ClProgram(cl_context context, cl_device_id device, String deviceName) {
        String[] src = SOURCES.stream().map(ClProgram::source).toArray(String[]::new);
        program = clCreateProgramWithSource(context, src.length, src, null, null);
        String options = "-DMV_WG=" + WG + " -DRN_WG=" + WG + " -DATT_WG=" + WG + " -DAM_WG=" + WG + " -DNT=" + NT
                + " -DATT_DPT=" + ATT_DPT;
        try {
            clBuildProgram(program, 1, new cl_device_id[] {device}, options, null, null);
        } catch (CLException e) {
            String log = buildLog(device);
            clReleaseProgram(program);
            throw new IllegalStateException("building the OpenCL kernels " + SOURCES + " for " + deviceName + " failed ("
                    + e.getMessage() + "); build log:\n" + log, e);
        }
    }

    /** The kernel {@code name}, created on first use. */
    cl_kernel kernel(String name) {
        cl_kernel k = kernels.get(name);
        if (k == null) {
            try {
                k = clCreateKernel(program, name, null);
            } catch (CLException e) {
                throw new IllegalStateException("clCreateKernel(" + name + ") failed: " + e.getMessage(), e);
            }
            kernels.put(name, k);
        }
        return k;
    }

    private String buildLog(cl_device_id device) {
        try {
            long[] size = new long[1];
            clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] b = new byte[(int) size[0]];
            clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, b.length, Pointer.to(b), null);
            int n = 0;
            while (n < b.length && b[n] != 0) n++;
            return new String(b, 0, n, StandardCharsets.UTF_8);
        } catch (CLException e) {
            return "(no build log: " + e.getMessage() + ")";
        }
    }

    static String source(String file) {
        try (InputStream in = ClProgram.class.getResourceAsStream("kernels/" + file)) {
            if (in == null) throw new IllegalStateException("kernel source org/jgemma/opencl/kernels/" + file + " is missing");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException("reading kernel source " + file, e);
        }
    }

    @Override
    public void close() {
        for (cl_kernel k : kernels.values()) clReleaseKernel(k);
        kernels.clear();
        clReleaseProgram(program);
    }
}
