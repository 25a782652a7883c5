package org.jgemma.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;
import org.jgemma.backend.BackendUnavailableException;

/**
 * The CUDA kernels compiled for the CPU (src/main/cuda/host: the .cu files unchanged plus a shim header; built by
 * build-host.sh during the Maven build) and bound through java.lang.foreign. Loaded once per process from the class
 * path ({@code org/jgemma/cuda/host/linux-x86_64/}), or from the file the system property
 * {@code jgemma.cuda.host.lib} names (the AddressSanitizer build in HostSanitizerTest).
 */
final class HostLibrary {
    static final String RESOURCE = "/org/jgemma/cuda/host/linux-x86_64/libjgemma_cuda_host.so";
    static final String NOT_BUILT = "the CUDA host library was not built (engine-cuda builds it with g++ on x86-64 Linux;"
            + " see engine-cuda/src/main/cuda/host/build-host.sh)";

    private static volatile Object loaded;  // HostLibrary or the BackendUnavailableException

    final String path;
    final boolean sanitized;
    final Map<String, Integer> index = new HashMap<>();
    final Map<String, long[]> paramSizes = new HashMap<>();
    final MethodHandle launch, alloc, free, setThreads;

    /** The library, loaded on first use; throws with the reason where it cannot be. */
    static HostLibrary get() {
        Object l = loaded;
        if (l == null) {
            synchronized (HostLibrary.class) {
                l = loaded;
                if (l == null) {
                    try {
                        l = new HostLibrary(locate());
                    } catch (BackendUnavailableException e) {
                        l = e;
                    } catch (RuntimeException | LinkageError | IOException e) {
                        l = new BackendUnavailableException("the CUDA host library failed to load: " + e, e);
                    }
                    loaded = l;
                }
            }
        }
        if (l instanceof BackendUnavailableException e) throw new BackendUnavailableException(e.getMessage(), e);
        return (HostLibrary) l;
    }

    private static Path locate() throws IOException {
        String explicit = System.getProperty("jgemma.cuda.host.lib");
        if (explicit != null && !explicit.isBlank()) {
            Path p = Path.of(explicit);
            if (!Files.isRegularFile(p)) throw new BackendUnavailableException("jgemma.cuda.host.lib=" + explicit + ": no such file");
            return p;
        }
        if (!System.getProperty("os.name", "").startsWith("Linux") || !System.getProperty("os.arch", "").equals("amd64")) {
            throw new BackendUnavailableException("the CUDA host driver runs on x86-64 Linux only (this is "
                    + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ")");
        }
        try (InputStream in = HostLibrary.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new BackendUnavailableException(NOT_BUILT);
            Path tmp = Files.createTempFile("jgemma_cuda_host", ".so");
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            return tmp;
        }
    }

    private HostLibrary(Path file) {
        this.path = file.toString();
        Linker linker = Linker.nativeLinker();
        SymbolLookup lib = SymbolLookup.libraryLookup(file, Arena.global());
        ValueLayout.OfInt I = ValueLayout.JAVA_INT;
        ValueLayout.OfLong J = ValueLayout.JAVA_LONG;
        var P = ValueLayout.ADDRESS;
        MethodHandle count = linker.downcallHandle(find(lib, "hc_kernel_count"), FunctionDescriptor.of(I));
        MethodHandle name = linker.downcallHandle(find(lib, "hc_kernel_name"), FunctionDescriptor.of(P, I));
        MethodHandle params = linker.downcallHandle(find(lib, "hc_kernel_params"), FunctionDescriptor.of(I, I, P, I));
        MethodHandle san = linker.downcallHandle(find(lib, "hc_sanitized"), FunctionDescriptor.of(I));
        launch = linker.downcallHandle(find(lib, "hc_launch"), FunctionDescriptor.of(I, I, P, J, I, I, I, I, I, I, P, I));
        alloc = linker.downcallHandle(find(lib, "hc_alloc"), FunctionDescriptor.of(P, J));
        free = linker.downcallHandle(find(lib, "hc_free"), FunctionDescriptor.ofVoid(P));
        setThreads = linker.downcallHandle(find(lib, "hc_set_threads"), FunctionDescriptor.ofVoid(I));
        try (Arena a = Arena.ofConfined()) {
            int n = (int) count.invokeExact();
            MemorySegment sizes = a.allocate(J, 64);
            for (int k = 0; k < n; k++) {
                String kn = ((MemorySegment) name.invokeExact(k)).reinterpret(256).getString(0);
                int np = (int) params.invokeExact(k, sizes, 64);
                index.put(kn, k);
                paramSizes.put(kn, sizes.asSlice(0, 8L * Math.min(np, 64)).toArray(J));
            }
            sanitized = (int) san.invokeExact() != 0;
        } catch (Throwable t) {
            throw new IllegalStateException("reading the kernel registry of " + file, t);
        }
        int threads = Integer.getInteger("jgemma.cuda.host.threads", Runtime.getRuntime().availableProcessors());
        try {
            setThreads.invokeExact(threads);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static MemorySegment find(SymbolLookup lib, String symbol) {
        return lib.find(symbol).orElseThrow(() -> new IllegalStateException("symbol " + symbol + " missing from the CUDA host library"));
    }
}
