package org.jgemma.cpu;

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
import java.util.EnumMap;
import java.util.Map;

import org.jgemma.ggml.GgmlType;

/**
 * The native int8 mat-vec kernels (src/main/c/jgemma_cpu.c: ggml's AVX2 block loops, built by build-native.sh during
 * the Maven build into {@code org/jgemma/cpu/native/linux-x86_64/}), bound through java.lang.foreign. Used by
 * {@link Matmul}'s decode path for Q8_0, Q4_0, Q5_0, Q4_K and Q6_K weights where the library loaded and the CPU has
 * AVX2, FMA and F16C; everywhere else (another OS or architecture, a JVM without native access, the library not built,
 * {@code -Djgemma.cpu.native=false}) the Vector API kernels ({@link QuantDot}, {@link QuantDotPair}) run. Why: the Vector
 * API has no unsigned-by-signed byte multiply-add (AVX2's vpmaddubsw), and its 16-bit formulation takes about twice
 * the instructions per block (README, "Speed").
 *
 * <p>The calls are {@code critical} downcalls: the activation and output arrays are passed as heap segments without
 * copying, and the kernels neither block nor call back. Every argument is checked here against the arrays' and the
 * weight segment's sizes before the call, so a wrong size is an exception in Java, not a read out of bounds in C.
 */
final class NativeKernels {
    private NativeKernels() {}

    static final String RESOURCE = "/org/jgemma/cpu/native/linux-x86_64/libjgemma_cpu.so";

    private static final Map<GgmlType, MethodHandle> KERNELS = new EnumMap<>(GgmlType.class);
    /** The several-column kernels (jg_gemm_*): each weight step decoded once for up to 4 columns, the same floats. */
    private static final Map<GgmlType, MethodHandle> MULTI = new EnumMap<>(GgmlType.class);
    /**
     * The kernels of weights repacked at load into groups of 8 rows ({@link #pack}): Q4_0 and Q4_K, the types llama.cpp
     * repacks on AVX2 (ggml-cpu/repack.cpp: q4_0_8x8_q8_0, q4_K_8x8_q8_K), Q5_0 likewise (the Q4_K_M files of gemma3
     * 270M and 1B hold their 640- and 1152-wide matrices as Q5_0), and Q8_0 where AVX512-VNNI runs (as w + 128:
     * jgemma_cpu.c, jg_pack_q8_0). Each column's 8-byte pieces meet 4 rows in one register, so a block costs fewer
     * instructions than row by row (kernel alone, one thread: Q4_0, k = 1152, 1.24 -> 0.47 ns per row x column x 32
     * weights for one column, 0.65 -> 0.35 for 128; Q4_K, k = 2560, 0.85 -> 0.66 for one, 0.60 -> 0.52 for 64; Q8_0
     * with VNNI, k = 1152, 1.10 -> 0.40 for one, 0.62 -> 0.26 for 128; Q5_0 with VNNI, k = 1152, 0.61 -> 0.40 for 128).
     */
    private static final Map<GgmlType, MethodHandle> PACKED = new EnumMap<>(GgmlType.class);
    private static final Map<GgmlType, MethodHandle> PACK = new EnumMap<>(GgmlType.class);
    private static MethodHandle malloc, free;
    /**
     * Whether the VNNI twins of the 32-weight row kernels and of the repacked kernels run (AVX512-VNNI: vpdpbusd for
     * vpmaddubsw + vpmaddwd, the same integers and floats; kernel alone, 128 columns: repacked Q4_0 0.35 -> 0.24 ns,
     * Q8_0/Q4_0 rows 0.63 -> 0.54).
     * {@code -Djgemma.cpu.vnni=false} keeps the AVX2 ones.
     */
    private static boolean vnni;
    /** {@code -Djgemma.cpu.repack=false} keeps every weight in the file's layout (for comparisons). */
    static final boolean REPACK = !"false".equals(System.getProperty("jgemma.cpu.repack"));
    /** Why the native kernels are not used (null when they are). */
    private static final String UNAVAILABLE;

    static {
        String why = null;
        if (!Boolean.parseBoolean(System.getProperty("jgemma.cpu.native", "true"))) {
            why = "switched off (-Djgemma.cpu.native=false)";
        } else if (!System.getProperty("os.name", "").startsWith("Linux") || !System.getProperty("os.arch", "").equals("amd64")) {
            why = "built for x86-64 Linux only (this is " + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ")";
        } else {
            try {
                why = load();
            } catch (Throwable t) { // an IllegalCallerException without native access, a LinkageError, an I/O error
                why = "failed to load: " + t;
                KERNELS.clear();
                MULTI.clear();
                PACKED.clear();
                PACK.clear();
            }
        }
        UNAVAILABLE = why;
    }

    private static String load() throws Throwable {
        Path file;
        String explicit = System.getProperty("jgemma.cpu.native.lib");
        if (explicit != null && !explicit.isBlank()) {
            file = Path.of(explicit);
        } else {
            try (InputStream in = NativeKernels.class.getResourceAsStream(RESOURCE)) {
                if (in == null) return "not built (engine-cpu builds it with a C compiler on x86-64 Linux: src/main/c/build-native.sh)";
                file = Files.createTempFile("jgemma_cpu", ".so");
                file.toFile().deleteOnExit();
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                return "could not be extracted: " + e;
            }
        }
        Linker linker = Linker.nativeLinker();
        SymbolLookup lib = SymbolLookup.libraryLookup(file, Arena.global());
        MethodHandle supported = linker.downcallHandle(lib.find("jg_cpu_supported").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
        if ((int) supported.invokeExact() == 0) return "this CPU lacks AVX2, FMA or F16C";
        MethodHandle abi = linker.downcallHandle(lib.find("jg_abi_version").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
        int version = (int) abi.invokeExact();
        if (version != 3) return "library ABI " + version + ", expected 3";
        var P = ValueLayout.ADDRESS;
        var I = ValueLayout.JAVA_INT;
        FunctionDescriptor fd = FunctionDescriptor.ofVoid(P, ValueLayout.JAVA_LONG, I, I, P, P, P, I, I, P, I);
        Linker.Option critical = Linker.Option.critical(true);
        MethodHandle vnniProbe = linker.downcallHandle(lib.find("jg_cpu_vnni").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
        vnni = (int) vnniProbe.invokeExact() != 0 && !"false".equals(System.getProperty("jgemma.cpu.vnni"));
        for (GgmlType t : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q6_K}) {
            String name = t.name().toLowerCase().replace("_k", "_K"); // q8_0 ... q4_K, q6_K
            KERNELS.put(t, bind(linker, lib, "jg_" + name + (vnni && t.blockSize == 32 ? "_vnni" : ""), fd, critical));
            if (t.blockSize == 256) MULTI.put(t, bind(linker, lib, "jg_gemm_" + name, fd, critical));
        }
        SymbolLookup libc = linker.defaultLookup();
        malloc = linker.downcallHandle(libc.find("malloc").orElseThrow(), FunctionDescriptor.of(P, ValueLayout.JAVA_LONG));
        free = linker.downcallHandle(libc.find("free").orElseThrow(), FunctionDescriptor.ofVoid(P));
        // jg_pack_<type> and its kernel jg_<type>x8 (_vnni where the twins run). Q8_0 as w + 128 needs vpdpbusd
        // (vpmaddubsw's int16 pair sums would overflow): VNNI machines only
        FunctionDescriptor packFd = FunctionDescriptor.ofVoid(P, P, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
        for (GgmlType t : vnni ? new GgmlType[] {GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q8_0}
                : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_K}) {
            String name = t.name().toLowerCase().replace("_k", "_K");
            PACKED.put(t, bind(linker, lib, "jg_" + name + "x8" + (vnni ? "_vnni" : ""), fd, critical));
            PACK.put(t, bind(linker, lib, "jg_pack_" + name, packFd, critical));
        }
        return null;
    }

    /** Widest rows the kernels take: their per-call scratch (scales and sums of a block of columns) is sized for it. */
    static final int MAX_K = 32768;

    private static MethodHandle bind(Linker linker, SymbolLookup lib, String sym, FunctionDescriptor fd, Linker.Option critical) {
        return linker.downcallHandle(lib.find(sym).orElseThrow(() -> new IllegalStateException("no symbol " + sym)), fd, critical);
    }

    /** Whether the native kernel for {@code type} runs here. */
    static boolean supports(GgmlType type) {
        return UNAVAILABLE == null && KERNELS.containsKey(type);
    }

    /** Whether the native kernel for {@code type} runs here on rows of {@code k} columns. */
    static boolean supports(GgmlType type, long k) {
        return supports(type) && k > 0 && k <= MAX_K && k % type.blockSize == 0;
    }

    /** Whether a weight of this type and shape is repacked at load ({@link #pack}): rows in whole groups of 8. */
    static boolean packs(GgmlType type, long k, long rows) {
        return REPACK && supports(type, k) && PACKED.containsKey(type) && rows > 0 && rows % 8 == 0;
    }

    /**
     * Writes {@code rows} rows of {@code src} into {@code dst} ({@link #packedBytes}) in groups of 8 rows: for Q4_0 ggml's
     * block_q4_0x8 layout (make_block_q4_0x8 in ggml-cpu/repack.cpp) without its XOR; each type's layout is described
     * in jgemma_cpu.c (jg_pack_q4_0, jg_pack_q5_0, jg_pack_q4_K, jg_pack_q8_0).
     */
    static void pack(GgmlType type, MemorySegment src, MemorySegment dst, int k, long rows) {
        if (!packs(type, k, rows)) throw new IllegalStateException(type + " [" + k + " x " + rows + "] is not repacked here");
        long rowBytes = type.byteSize(k);
        if (src.byteSize() < rowBytes * rows || dst.byteSize() < packedBytes(type, k, rows)) {
            throw new IllegalArgumentException(type + ": " + rows + " rows of " + rowBytes + " bytes do not fit " + src.byteSize() + " / " + dst.byteSize());
        }
        try {
            PACK.get(type).invokeExact(src, dst, rowBytes, rows);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Bytes of the repacked copy of {@code rows} rows of {@code k} weights: Q4_0 and Q8_0 the rows' own, Q5_0 208 per
     * 32-block of 8 rows (8 x 22, plus the fifth bits laid out per register: jgemma_cpu.c, jg_pack_q5_0), Q4_K 1184 per super-block of 8 rows (8 x 144, plus the scales and mins unpacked to a byte each).
     */
    static long packedBytes(GgmlType type, long k, long rows) {
        return switch (type) {
            case Q4_K -> rows / 8 * (k / 256) * 1184;
            case Q5_0 -> rows / 8 * (k / 32) * 208;
            default -> type.byteSize(k) * rows;
        };
    }

    /**
     * {@code bytes} of native memory freed when {@code arena} closes, not zeroed (malloc: {@link #pack} writes every
     * byte, and Arena.allocate's zeroing of a 4B model's 2.5 GB cost ~0.4 s of load), or null when malloc fails.
     */
    static MemorySegment allocateUninitialized(long bytes, Arena arena) {
        if (malloc == null) throw new IllegalStateException("native kernels not loaded: " + UNAVAILABLE);
        try {
            MemorySegment p = (MemorySegment) malloc.invokeExact(bytes);
            if (p.equals(MemorySegment.NULL)) return null;
            return p.reinterpret(bytes, arena, s -> {
                try {
                    free.invokeExact(s);
                } catch (Throwable e) {
                    throw new IllegalStateException(e);
                }
            });
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** For the device line: "native AVX2 int8 kernels" (", VNNI" where the twins run; ", repacked" where weights are). */
    static String shortName() {
        return "native AVX2" + (vnni ? "+VNNI" : "") + " int8 kernels" + (REPACK && !PACKED.isEmpty() ? ", repacked " + PACKED.keySet() : "");
    }

    /** One line for diagnostics. */
    static String describe() {
        return UNAVAILABLE == null ? "native int8 kernels (AVX2" + (vnni ? ", AVX512-VNNI" : "") + "): " + KERNELS.keySet()
                + (REPACK ? ", repacked in groups of 8 rows: " + PACKED.keySet() : "") : "native int8 kernels off: " + UNAVAILABLE;
    }

    /** Int8 copies of the activations' quants: the kernels read bytes (the Java kernels read the widened shorts). */
    static void toBytes(Q8Activations a, int n, int k) {
        toBytes(a, 0, n, k);
    }

    /** {@link #toBytes} for activation rows [t0, t1) (the workers of a parallel quantization convert their own). */
    static void toBytes(Q8Activations a, int t0, int t1, int k) {
        short[] q = a.q;
        byte[] b = a.bytes();
        for (int i = t0 * k, e = t1 * k; i < e; i++) b[i] = (byte) q[i];
        if (a.kind == GgmlType.Q8_K) { // sums of 16 values of at most 127 in magnitude: they fit
            int[] s = a.bsums;
            short[] s16 = a.bsums16();
            for (int i = t0 * (k / 16), e = t1 * (k / 16); i < e; i++) s16[i] = (short) s[i];
        }
    }

    /**
     * {@code out[t * ldo + r] = dot(row r of w, activation row t)} for r in [r0, r1), t in [0, n): the native twin of
     * {@link QuantDot#dot} (a's int8 copy made by {@link #toBytes}).
     */
    static void rows(GgmlType type, MemorySegment w, long rowBytes, int r0, int r1, Q8Activations a, int k, int n, float[] out, int ldo) {
        rows(type, false, w, rowBytes, r0, r1, a, k, n, out, ldo);
    }

    /**
     * {@link #rows} on a weight repacked by {@link #pack} when {@code packed}: then r0 and r1 must be multiples of 8
     * (the results are those of the row-by-row kernel within rounding: the same integers, the scales applied in
     * another order; every column the same floats whatever n is).
     */
    static void rows(GgmlType type, boolean packed, MemorySegment w, long rowBytes, int r0, int r1, Q8Activations a, int k, int n, float[] out, int ldo) {
        if (packed && (r0 % 8 != 0 || r1 % 8 != 0)) throw new IllegalArgumentException("packed rows [" + r0 + ", " + r1 + ") are not whole groups of 8");
        MethodHandle h = packed ? PACKED.get(type) : n > 1 && MULTI.containsKey(type) ? MULTI.get(type) : KERNELS.get(type);
        if (h == null) throw new IllegalStateException("no native kernel for " + type);
        int blockCols = type.blockSize; // 32 or 256
        if (k <= 0 || k % blockCols != 0) throw new IllegalArgumentException(type + ": " + k + " columns is not a multiple of " + blockCols);
        if (k > MAX_K) throw new IllegalArgumentException(type + ": " + k + " columns, more than the native kernels take (" + MAX_K + ")");
        if (r0 < 0 || r1 < r0 || n < 1) throw new IllegalArgumentException("rows [" + r0 + ", " + r1 + ") x " + n);
        if (rowBytes != type.byteSize(k) || w.byteSize() < (packed ? packedBytes(type, k, r1) : rowBytes * r1)) {
            throw new IllegalArgumentException(type + ": " + r1 + " rows of " + rowBytes + " bytes exceed the weight's " + w.byteSize());
        }
        long qNeed = (long) n * k;
        long dNeed = (long) n * (k / blockCols);
        long bsNeed = type.blockSize == 256 ? (long) n * (k / 16) : 0;
        if (a.bytes().length < qNeed || a.d.length < dNeed || a.bsums16().length < bsNeed || (long) (n - 1) * ldo + r1 > out.length || ldo < r1) {
            throw new IllegalArgumentException("activation or output arrays too small for " + n + " x " + k);
        }
        try {
            h.invokeExact(w, rowBytes, r0, r1, MemorySegment.ofArray(a.bytes()), MemorySegment.ofArray(a.d),
                    MemorySegment.ofArray(a.bsums16()), k, n, MemorySegment.ofArray(out), ldo);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
