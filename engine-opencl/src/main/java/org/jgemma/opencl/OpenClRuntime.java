package org.jgemma.opencl;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.util.List;
import java.util.Locale;

/**
 * Whether the OpenCL runtime library can be loaded, found out without touching JOCL: JOCL's native side prints
 * "Could not load ..." on standard output when the library is missing, which would land in a command's output.
 * The check dlopens the library JOCL would load (JOCL {@code LibInitializer.createImplementationNameCandidates}:
 * {@code libOpenCL.so} on Linux, the OpenCL framework on macOS, {@code OpenCL.dll} on Windows) through
 * {@link SymbolLookup#libraryLookup} and closes it again; the answer is kept for the life of the process.
 * System property {@code jgemma.opencl.library} replaces the name (tests use it to simulate a machine without OpenCL).
 */
final class OpenClRuntime {
    private OpenClRuntime() {}

    private static volatile String missing; // null: not checked yet; "": present; else why not

    /** Null when the library loads; else a one-line reason with what to install. */
    static String missingReason() {
        String m = missing;
        if (m == null) {
            m = check();
            missing = m;
        }
        return m.isEmpty() ? null : m;
    }

    private static String check() {
        List<String> names = candidates();
        for (String name : names) {
            try (Arena arena = Arena.ofConfined()) {
                SymbolLookup.libraryLookup(name, arena);
                return "";
            } catch (IllegalArgumentException | IllegalCallerException | UnsupportedOperationException e) {
                // not loadable under this name: try the next
            }
        }
        return "the OpenCL runtime library (" + String.join(" or ", names) + ") is not installed; install an ICD loader "
                + "and a driver, e.g. apt-get install ocl-icd-opencl-dev pocl-opencl-icd (CPU) or the GPU vendor's OpenCL driver";
    }

    private static List<String> candidates() {
        String override = System.getProperty("jgemma.opencl.library");
        if (override != null && !override.isBlank()) return List.of(override);
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (os.contains("mac")) return List.of("/System/Library/Frameworks/OpenCL.framework/Versions/Current/OpenCL", "libOpenCL.dylib");
        if (os.contains("win")) return List.of("OpenCL.dll");
        return List.of("libOpenCL.so");
    }
}
