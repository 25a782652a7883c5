package org.jgemma.ggml;

import java.util.Arrays;

/**
 * The GGML tensor types, with their on-disk ids, block size (elements per block) and bytes per block.
 * Ids and sizes follow ggml/include/ggml.h and ggml-common.h (see shared FACTS.md §1.5, §2.1).
 * {@code supported} says whether this engine can dequantize the type; an unsupported type still has a
 * name and a size so a file using it can be inspected and rejected by name.
 */
public enum GgmlType {
    F32(0, 1, 4, true),
    F16(1, 1, 2, true),
    Q4_0(2, 32, 18, true),
    Q4_1(3, 32, 20, true),
    Q5_0(6, 32, 22, true),
    Q5_1(7, 32, 24, true),
    Q8_0(8, 32, 34, true),
    Q8_1(9, 32, 36, false),
    Q2_K(10, 256, 84, true),
    Q3_K(11, 256, 110, true),
    Q4_K(12, 256, 144, true),
    Q5_K(13, 256, 176, true),
    Q6_K(14, 256, 210, true),
    Q8_K(15, 256, 292, false),
    IQ2_XXS(16, 256, 66, false),
    IQ2_XS(17, 256, 74, false),
    IQ3_XXS(18, 256, 98, false),
    IQ1_S(19, 256, 50, false),
    IQ4_NL(20, 32, 18, false),
    IQ3_S(21, 256, 110, false),
    IQ2_S(22, 256, 82, false),
    IQ4_XS(23, 256, 136, false),
    I8(24, 1, 1, false),
    I16(25, 1, 2, false),
    I32(26, 1, 4, false),
    I64(27, 1, 8, false),
    F64(28, 1, 8, false),
    IQ1_M(29, 256, 56, false),
    BF16(30, 1, 2, true),
    TQ1_0(34, 256, 54, false),
    TQ2_0(35, 256, 66, false),
    MXFP4(39, 32, 17, false);

    private static final GgmlType[] BY_ID = new GgmlType[64];

    static {
        for (GgmlType t : values()) {
            BY_ID[t.id] = t;
        }
    }

    /** The id stored in GGUF tensor infos ({@code enum ggml_type}). */
    public final int id;
    /** Elements per block (1 for the plain float types). */
    public final int blockSize;
    /** Bytes per block. */
    public final int typeSize;
    /** Whether this engine reads the type's blocks. */
    public final boolean supported;

    GgmlType(int id, int blockSize, int typeSize, boolean supported) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
        this.supported = supported;
    }

    /** The type with this id, or null if the id is not a known ggml type. */
    public static GgmlType byId(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }

    /** Bytes taken by {@code n} elements; {@code n} must be a multiple of the block size. */
    public long byteSize(long n) {
        if (n % blockSize != 0) {
            throw new IllegalArgumentException(name() + ": " + n + " elements is not a multiple of the block size " + blockSize);
        }
        return Math.multiplyExact(n / blockSize, (long) typeSize);
    }

    /** Lower-case name as llama.cpp prints it (e.g. {@code q4_K}). */
    public String ggmlName() {
        String n = name().toLowerCase();
        return n.endsWith("_k") ? n.substring(0, n.length() - 1) + "K" : n;
    }

    static {
        // STYLE 3: block sizes checked when the class loads (ggml-common.h static_asserts).
        check(Q4_0, 2 + 16); check(Q4_1, 2 + 2 + 16); check(Q5_0, 2 + 4 + 16); check(Q5_1, 2 + 2 + 4 + 16);
        check(Q8_0, 2 + 32); check(Q2_K, 16 + 64 + 2 + 2); check(Q3_K, 32 + 64 + 12 + 2);
        check(Q4_K, 2 + 2 + 12 + 128); check(Q5_K, 2 + 2 + 12 + 32 + 128); check(Q6_K, 128 + 64 + 16 + 2);
        check(Q8_K, 4 + 256 + 2 * 16);
        if (Arrays.stream(values()).map(t -> t.id).distinct().count() != values().length) {
            throw new AssertionError("duplicate ggml type id");
        }
    }

    private static void check(GgmlType t, int bytes) {
        if (t.typeSize != bytes) {
            throw new AssertionError(t + " block is " + bytes + " bytes, table says " + t.typeSize);
        }
    }
}
