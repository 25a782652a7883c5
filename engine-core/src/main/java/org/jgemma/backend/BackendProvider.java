package org.jgemma.backend;

import java.util.List;

/**
 * Found through {@link java.util.ServiceLoader} (META-INF/services/org.jgemma.backend.BackendProvider): a backend
 * module on the class path registers itself; {@link Backends} picks one by name or, for {@code auto}, by priority.
 */
public interface BackendProvider {
    /** The name users pass to {@code --backend}. */
    String name();

    /** Higher wins for {@code auto} among available backends (cuda 100, opencl 50 on a GPU or 5 on CPU-only devices, cpu 10, reference 0); may depend on the devices present. */
    int priority();

    /** Whether the backend can run here; if not, why (driver missing, no device, capability too old). */
    Availability probe();

    /** Devices this backend sees (for {@code jgemma devices}); empty if unavailable. */
    List<DeviceInfo> devices();

    /** Creates a backend; throws {@link BackendUnavailableException} with the reason if it cannot. */
    Backend create(BackendOptions options);

    record Availability(boolean available, String reason) {
        public static Availability yes() {
            return new Availability(true, "available");
        }

        public static Availability no(String reason) {
            return new Availability(false, reason);
        }
    }

    record DeviceInfo(int index, String name, long memoryBytes, String details) {}
}
