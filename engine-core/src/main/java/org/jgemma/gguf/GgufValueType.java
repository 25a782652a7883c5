package org.jgemma.gguf;

/** Metadata value types ({@code enum gguf_type}, ggml/include/gguf.h). */
public enum GgufValueType {
    UINT8(1), INT8(1), UINT16(2), INT16(2), UINT32(4), INT32(4), FLOAT32(4), BOOL(1), STRING(8), ARRAY(12),
    UINT64(8), INT64(8), FLOAT64(8);

    /** Bytes of one value; for STRING and ARRAY, the smallest possible encoding (an empty one). */
    public final int minSize;

    GgufValueType(int minSize) {
        this.minSize = minSize;
    }

    private static final GgufValueType[] VALUES = values();

    /** The type with this id, or null. */
    public static GgufValueType byId(int id) {
        return id >= 0 && id < VALUES.length ? VALUES[id] : null;
    }

    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }
}
