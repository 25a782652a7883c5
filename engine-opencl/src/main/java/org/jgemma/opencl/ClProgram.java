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
import org.jgemma.backend.BackendUnavailableException;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_program;

/**
 * The jgemma kernels built for one device: every {@code .cl} resource in {@link #SOURCES} (common.cl first) is handed
 * to one {@code clCreateProgramWithSource}, so the slow compile (seconds on PoCL) happens once. The context and the
 * built program are shared by every backend on that device for the life of the process ({@link #forDevice}); each
 * backend creates its own queue and its own kernel objects ({@link Kernels}: kernel arguments are per object, so
 * backends on different threads do not share them). A build failure throws with the compiler's log.
 */
final class ClProgram {
    /** Work-group size of the reducing kernels (mat-vec, RMSNorm, attention, argmax). */
    static final int WG = 64;
    /** Tokens a mat-vec work-group handles at once (weights are read n/NT times for a prompt of n). */
    static final int NT = 4;
    /** Head dimensions one attention work-item accumulates: headDim ≤ WG · ATT_DPT. */
    static final int ATT_DPT = 8;

    static final List<String> SOURCES = List.of("common.cl",
            "mul_mv_f32_f32.cl", "mul_mv_f16_f32.cl", "mul_mv_bf16_f32.cl", "mul_mv_q8_0_f32.cl", "mul_mv_q4_0_f32.cl",
            "mul_mv_q4_1_f32.cl", "mul_mv_q5_0_f32.cl", "mul_mv_q5_1_f32.cl", "mul_mv_q4_k_f32.cl", "mul_mv_q5_k_f32.cl",
            "mul_mv_q6_k_f32.cl", "mul_mv_q2_k_f32.cl", "mul_mv_q3_k_f32.cl",
            "rms_norm.cl", "rope_neox.cl", "kv_append.cl", "attention.cl", "attention_non_causal.cl", "elementwise.cl", "argmax.cl");

    private static final Map<String, ClProgram> BY_DEVICE = new HashMap<>();

    final cl_context context;
    private final cl_program program;

    /** The context and program for {@code d}, created and built on first use. */
    static synchronized ClProgram forDevice(ClDevice d) {
        String key = d.index() + ":" + d.fullName();
        ClProgram p = BY_DEVICE.get(key);
        if (p == null) {
            cl_context_properties props = new cl_context_properties();
            props.addProperty(CL_CONTEXT_PLATFORM, d.platform());
            cl_context ctx;
            try {
                ctx = clCreateContext(props, 1, new cl_device_id[] {d.device()}, null, null, null);
            } catch (CLException e) {
                throw new BackendUnavailableException("cannot open OpenCL device " + d.fullName() + ": " + e.getMessage(), e);
            }
            try {
                p = new ClProgram(ctx, d.device(), d.fullName(), SOURCES.stream().map(ClProgram::source).toArray(String[]::new));
            } catch (RuntimeException e) {
                clReleaseContext(ctx);
                throw e;
            }
            BY_DEVICE.put(key, p);
        }
        return p;
    }

    /** Builds {@code sources} as one program (package-private for the build-failure test). */
    ClProgram(cl_context context, cl_device_id device, String deviceName, String[] src) {
        this.context = context;
        program = clCreateProgramWithSource(context, src.length, src, null, null);
        String options = "-DMV_WG=" + WG + " -DRN_WG=" + WG + " -DATT_WG=" + WG + " -DAM_WG=" + WG + " -DNT=" + NT
                + " -DATT_DPT=" + ATT_DPT;
        try {
            clBuildProgram(program, 1, new cl_device_id[] {device}, options, null, null);
        } catch (CLException e) {
            String log = buildLog(device);
            clReleaseProgram(program);
            throw new IllegalStateException("building the OpenCL kernels (" + src.length + " sources: " + SOURCES + ") for " + deviceName + " failed ("
                    + e.getMessage() + "); build log:\n" + log, e);
        }
    }

    /** One backend's kernel objects, created on first use and cached by name. */
    final class Kernels implements AutoCloseable {
        private final Map<String, cl_kernel> kernels = new HashMap<>();

        cl_kernel get(String name) {
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

        @Override
        public void close() {
            for (cl_kernel k : kernels.values()) clReleaseKernel(k);
            kernels.clear();
        }
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
}
