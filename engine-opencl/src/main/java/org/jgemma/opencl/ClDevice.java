package org.jgemma.opencl;

import static org.jocl.CL.*;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.jgemma.backend.BackendUnavailableException;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * One OpenCL device of one platform, as the ICD loader lists them. {@code index} counts devices over all platforms
 * in the loader's order; it is what {@code --device N} and {@code jgemma devices} use.
 */
record ClDevice(int index, cl_platform_id platform, cl_device_id device, String platformName, String name, long type,
                long globalMemBytes, long maxAllocBytes, int computeUnits, String version) {

    boolean isGpu() {
        return (type & CL_DEVICE_TYPE_GPU) != 0;
    }

    String typeName() {
        if ((type & CL_DEVICE_TYPE_GPU) != 0) return "GPU";
        if ((type & CL_DEVICE_TYPE_CPU) != 0) return "CPU";
        if ((type & CL_DEVICE_TYPE_ACCELERATOR) != 0) return "accelerator";
        return "other";
    }

    /** "platform / device" as users match it with {@code --device}. */
    String fullName() {
        return platformName + " / " + name;
    }

    String describe() {
        return String.format(Locale.ROOT, "%s (%s, %s, %d compute units, %.1f GiB)", name, platformName, typeName(),
                computeUnits, globalMemBytes / (double) (1L << 30));
    }

    /**
     * Every device of every platform. Throws {@link BackendUnavailableException} when the OpenCL runtime (the ICD
     * loader libOpenCL.so) or JOCL's native library cannot be loaded; an empty list when no platform is installed.
     */
    static List<ClDevice> list() {
        String missing = OpenClRuntime.missingReason(); // checked before org.jocl.CL loads: JOCL prints on stdout otherwise
        if (missing != null) throw new BackendUnavailableException(missing);
        try {
            CL.setExceptionsEnabled(true);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            throw new BackendUnavailableException("the OpenCL runtime could not be loaded (" + e + "); install an ICD "
                    + "loader and a driver, e.g. apt-get install ocl-icd-opencl-dev pocl-opencl-icd (CPU) or the GPU "
                    + "vendor's OpenCL driver", e);
        }
        int[] count = new int[1];
        try {
            clGetPlatformIDs(0, null, count);
        } catch (CLException e) {
            if (e.getStatus() == CL_PLATFORM_NOT_FOUND_KHR) return List.of();
            throw new BackendUnavailableException("clGetPlatformIDs failed: " + e.getMessage(), e);
        } catch (UnsatisfiedLinkError e) {
            throw new BackendUnavailableException("the OpenCL runtime could not be loaded (" + e + "); install "
                    + "ocl-icd-opencl-dev (libOpenCL.so) and a driver", e);
        }
        if (count[0] == 0) return List.of();
        cl_platform_id[] platforms = new cl_platform_id[count[0]];
        clGetPlatformIDs(platforms.length, platforms, null);
        List<ClDevice> out = new ArrayList<>();
        for (cl_platform_id p : platforms) {
            String pname = platformString(p, CL_PLATFORM_NAME);
            int[] nd = new int[1];
            try {
                clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, null, nd);
            } catch (CLException e) {
                if (e.getStatus() == CL_DEVICE_NOT_FOUND) continue;
                throw e;
            }
            cl_device_id[] ds = new cl_device_id[nd[0]];
            clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, ds.length, ds, null);
            for (cl_device_id d : ds) {
                out.add(new ClDevice(out.size(), p, d, pname, deviceString(d, CL_DEVICE_NAME), deviceLong(d, CL_DEVICE_TYPE),
                        deviceLong(d, CL_DEVICE_GLOBAL_MEM_SIZE), deviceLong(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE),
                        deviceInt(d, CL_DEVICE_MAX_COMPUTE_UNITS), deviceString(d, CL_DEVICE_VERSION)));
            }
        }
        return out;
    }

    /**
     * The device {@code spec} names: a number is an index into {@link #list()}, anything else a case-insensitive
     * substring of "platform / device". Null or blank: the GPU with the most memory, else the first device.
     */
    static ClDevice select(String spec) {
        List<ClDevice> all = list();
        if (all.isEmpty()) {
            throw new BackendUnavailableException("no OpenCL device: the OpenCL runtime found no platform with a device "
                    + "(is a driver installed? /etc/OpenCL/vendors lists the ICDs; OCL_ICD_VENDORS overrides it)");
        }
        if (spec == null || spec.isBlank()) {
            return all.stream().filter(ClDevice::isGpu).max(Comparator.comparingLong(ClDevice::globalMemBytes))
                    .orElse(all.getFirst());
        }
        String s = spec.strip();
        if (s.chars().allMatch(Character::isDigit)) {
            int i = Integer.parseInt(s);
            if (i >= all.size()) {
                throw new BackendUnavailableException("OpenCL device index " + i + " is out of range: " + names(all));
            }
            return all.get(i);
        }
        String needle = s.toLowerCase(Locale.ROOT);
        return all.stream().filter(d -> d.fullName().toLowerCase(Locale.ROOT).contains(needle)).findFirst()
                .orElseThrow(() -> new BackendUnavailableException("no OpenCL device matches '" + spec + "': " + names(all)));
    }

    private static String names(List<ClDevice> all) {
        StringBuilder sb = new StringBuilder("the devices are");
        for (ClDevice d : all) sb.append(" [").append(d.index).append("] ").append(d.fullName()).append(';');
        return sb.toString();
    }

    private static String platformString(cl_platform_id p, int param) {
        long[] size = new long[1];
        clGetPlatformInfo(p, param, 0, null, size);
        byte[] b = new byte[(int) size[0]];
        clGetPlatformInfo(p, param, b.length, Pointer.to(b), null);
        return cString(b);
    }

    static String deviceString(cl_device_id d, int param) {
        long[] size = new long[1];
        clGetDeviceInfo(d, param, 0, null, size);
        byte[] b = new byte[(int) size[0]];
        clGetDeviceInfo(d, param, b.length, Pointer.to(b), null);
        return cString(b);
    }

    static long deviceLong(cl_device_id d, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(d, param, Sizeof.cl_ulong, Pointer.to(v), null);
        return v[0];
    }

    static int deviceInt(cl_device_id d, int param) {
        int[] v = new int[1];
        clGetDeviceInfo(d, param, Sizeof.cl_uint, Pointer.to(v), null);
        return v[0];
    }

    private static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, StandardCharsets.UTF_8).strip();
    }
}
