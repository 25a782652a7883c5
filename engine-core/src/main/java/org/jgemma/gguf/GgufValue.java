package org.jgemma.gguf;

import java.util.Arrays;

/**
 * One metadata value. Scalars hold a boxed Java value (unsigned integers widened: UINT8/UINT16 as Integer,
 * UINT32 as Long, UINT64 as Long holding the raw bits). Arrays hold {@code elementType} and a Java array:
 * byte[] (UINT8, INT8, BOOL), short[] (UINT16, INT16), int[] (UINT32, INT32), long[] (UINT64, INT64),
 * float[], double[] or String[].
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

    public static GgufValue scalar(GgufValueType type, Object value) {
        return new GgufValue(type, null, value);
    }

    public static GgufValue array(GgufValueType elementType, Object array) {
        return new GgufValue(GgufValueType.ARRAY, elementType, array);
    }

    public static GgufValue ofString(String s) { return scalar(GgufValueType.STRING, s); }
    public static GgufValue ofBool(boolean b) { return scalar(GgufValueType.BOOL, b); }
    public static GgufValue ofUInt8(int v) { return scalar(GgufValueType.UINT8, v & 0xFF); }
    public static GgufValue ofInt8(byte v) { return scalar(GgufValueType.INT8, v); }
    public static GgufValue ofUInt16(int v) { return scalar(GgufValueType.UINT16, v & 0xFFFF); }
    public static GgufValue ofInt16(short v) { return scalar(GgufValueType.INT16, v); }
    public static GgufValue ofUInt32(long v) { return scalar(GgufValueType.UINT32, v & 0xFFFFFFFFL); }
    public static GgufValue ofInt32(int v) { return scalar(GgufValueType.INT32, v); }
    /** UINT64 from its raw 64 bits (values above Long.MAX_VALUE are negative longs). */
    public static GgufValue ofUInt64(long v) { return scalar(GgufValueType.UINT64, v); }
    public static GgufValue ofInt64(long v) { return scalar(GgufValueType.INT64, v); }
    public static GgufValue ofFloat32(float v) { return scalar(GgufValueType.FLOAT32, v); }
    public static GgufValue ofFloat64(double v) { return scalar(GgufValueType.FLOAT64, v); }
    public static GgufValue ofStringArray(String... a) { return array(GgufValueType.STRING, a.clone()); }
    public static GgufValue ofInt32Array(int... a) { return array(GgufValueType.INT32, a.clone()); }
    public static GgufValue ofFloat32Array(float... a) { return array(GgufValueType.FLOAT32, a.clone()); }

    public boolean isArray() {
        return type == GgufValueType.ARRAY;
    }

    /** Number of elements of an array value. */
    public int arrayLength() {
        return java.lang.reflect.Array.getLength(value);
    }

    /** The type as gguf-py prints it, e.g. {@code UINT32} or {@code [STRING]}. */
    public String typeName() {
        return isArray() ? "[" + elementType + "]" : type.name();
    }

    /** A readable rendering; arrays longer than {@code maxElements} are abbreviated. */
    public String render(int maxElements) {
        if (!isArray()) {
            return renderScalar(type, value);
        }
        int n = arrayLength();
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < Math.min(n, maxElements); i++) {
            if (i > 0) sb.append(", ");
            sb.append(renderScalar(elementType, element(i)));
        }
        if (n > maxElements) sb.append(", ... (").append(n).append(" elements)");
        return sb.append(']').toString();
    }

    /** Element {@code i} of an array value, boxed the same way as a scalar of the element type. */
    public Object element(int i) {
        return switch (value) {
            case byte[] a -> switch (elementType) {
                case UINT8 -> a[i] & 0xFF;
                case BOOL -> a[i] != 0;
                default -> a[i];
            };
            case short[] a -> elementType == GgufValueType.UINT16 ? (Object) (a[i] & 0xFFFF) : (Object) a[i];
            case int[] a -> elementType == GgufValueType.UINT32 ? (Object) (a[i] & 0xFFFFFFFFL) : (Object) a[i];
            case long[] a -> a[i];
            case float[] a -> a[i];
            case double[] a -> a[i];
            case String[] a -> a[i];
            default -> throw new IllegalStateException("not an array: " + value);
        };
    }

    private static String renderScalar(GgufValueType t, Object v) {
        if (t == GgufValueType.STRING) {
            String s = (String) v;
            if (s.length() > 120) s = s.substring(0, 120) + "...(" + s.length() + " chars)";
            return '"' + s.replace("\\", "\\\\").replace("\n", "\\n").replace("\"", "\\\"") + '"';
        }
        if (t == GgufValueType.UINT64) {
            return Long.toUnsignedString((Long) v);
        }
        return String.valueOf(v);
    }

    @Override
    public String toString() {
        return typeName() + " " + render(8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufValue g && g.type == type && g.elementType == elementType
                && Arrays.deepEquals(new Object[] {value}, new Object[] {g.value});
    }

    @Override
    public int hashCode() {
        return Arrays.deepHashCode(new Object[] {type, elementType, value});
    }
}
