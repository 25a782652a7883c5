package org.jgemma.cuda;

import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import jcuda.CudaException;
import jcuda.driver.CUdevice;
import jcuda.driver.JCudaDriver;
import org.jgemma.backend.BackendProvider.Availability;
import org.jgemma.backend.BackendProvider.DeviceInfo;
import org.jgemma.backend.BackendUnavailableException;

/**
 * Finding the driver and the devices without ever crashing: a missing libcuda.so.1, a driver without devices and a
 * device too old each give a sentence saying so. The kernels are PTX for compute_80 (nvcc 13 no longer targets
 * older architectures), so a device needs compute capability 8.0 or newer.
 */
final class CudaDevices {
    private CudaDevices() {}

    static final int MIN_MAJOR = 8, MIN_MINOR = 0;
    static final String NO_DRIVER = "no NVIDIA driver (libcuda.so.1 not found)";
    static final String NO_DEVICE = "no CUDA device";

    /** One device as the driver reports it. */
    record Device(int index, String name, long memory, int major, int minor) {
        boolean capable() {
            return major > MIN_MAJOR || (major == MIN_MAJOR && minor >= MIN_MINOR);
        }

        String capability() {
            return major + "." + minor;
        }
    }

    /** Why the driver library cannot be loaded, or null if it can (checked before JCuda touches it). */
    static String driverMissing() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) return null;  // JCuda will tell
        try {
            SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
            return null;
        } catch (IllegalArgumentException e) {
            return NO_DRIVER;
        }
    }

    /** The devices, or an exception whose message is the reason there are none usable. */
    static List<Device> list() {
        String missing = driverMissing();
        if (missing != null) throw new BackendUnavailableException(missing);
        try {
            JCudaDriver.setExceptionsEnabled(true);
            Cu.call("cuInit", () -> JCudaDriver.cuInit(0));
            int[] count = {0};
            Cu.call("cuDeviceGetCount", () -> JCudaDriver.cuDeviceGetCount(count));
            List<Device> devices = new ArrayList<>();
            for (int i = 0; i < count[0]; i++) {
                CUdevice d = new CUdevice();
                int index = i;
                Cu.call("cuDeviceGet(" + i + ")", () -> JCudaDriver.cuDeviceGet(d, index));
                byte[] name = new byte[256];
                Cu.call("cuDeviceGetName(" + i + ")", () -> JCudaDriver.cuDeviceGetName(name, name.length, d));
                long[] mem = {0};
                Cu.call("cuDeviceTotalMem(" + i + ")", () -> JCudaDriver.cuDeviceTotalMem(mem, d));
                int[] major = {0}, minor = {0};
                Cu.call("cuDeviceGetAttribute(major, " + i + ")",
                        () -> JCudaDriver.cuDeviceGetAttribute(major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d));
                Cu.call("cuDeviceGetAttribute(minor, " + i + ")",
                        () -> JCudaDriver.cuDeviceGetAttribute(minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d));
                devices.add(new Device(i, cString(name), mem[0], major[0], minor[0]));
            }
            if (devices.isEmpty()) throw new BackendUnavailableException(NO_DEVICE);
            return devices;
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new BackendUnavailableException(NO_DRIVER + ": " + e.getMessage(), e);
        } catch (Cu.CallException e) {
            if (e.getMessage().contains("CUDA_ERROR_NO_DEVICE")) throw new BackendUnavailableException(NO_DEVICE, e);
            throw new BackendUnavailableException("the CUDA driver failed: " + e.getMessage(), e);
        } catch (CudaException e) {
            throw new BackendUnavailableException("the CUDA driver failed: " + e.getMessage(), e);
        }
    }

    static Availability probe() {
        try {
            List<Device> devices = list();
            for (Device d : devices) if (d.capable()) return Availability.yes();
            return Availability.no(tooOld(devices.getFirst()));
        } catch (BackendUnavailableException e) {
            return Availability.no(e.getMessage());
        } catch (RuntimeException | LinkageError e) {  // never crash a probe
            return Availability.no("the CUDA driver failed: " + e);
        }
    }

    static String tooOld(Device d) {
        return "compute capability " + d.capability() + " is too old (need " + MIN_MAJOR + "." + MIN_MINOR
                + "+): " + d.name() + " (device " + d.index() + ")";
    }

    static List<DeviceInfo> infos() {
        try {
            List<DeviceInfo> out = new ArrayList<>();
            for (Device d : list()) {
                out.add(new DeviceInfo(d.index(), d.name(), d.memory(), "compute capability " + d.capability()
                        + (d.capable() ? "" : " (too old, need " + MIN_MAJOR + "." + MIN_MINOR + "+)") + ", driver jcuda"));
            }
            return out;
        } catch (RuntimeException | LinkageError e) {
            return List.of();
        }
    }

    /**
     * The device {@code spec} names (an index, or a part of the name, case-insensitive), or for null the capable one
     * with the most memory; throws with the devices listed if none matches.
     */
    static Device select(List<Device> devices, String spec) {
        Device best = null;
        for (Device d : devices) {
            boolean match = spec == null || spec.isBlank() || spec.strip().equals(Integer.toString(d.index()))
                    || d.name().toLowerCase(Locale.ROOT).contains(spec.strip().toLowerCase(Locale.ROOT));
            if (match && (best == null || d.memory() > best.memory())) best = d;
        }
        if (best == null) throw new BackendUnavailableException("no CUDA device matches '" + spec + "'; devices: " + devices);
        if (!best.capable()) throw new BackendUnavailableException(tooOld(best));
        return best;
    }

    private static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }
}
