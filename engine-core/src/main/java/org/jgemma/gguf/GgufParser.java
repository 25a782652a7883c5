package org.jgemma.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jgemma.ggml.GgmlType;

/**
 * Parses the header of a GGUF v2/v3 file (ggml/src/gguf.cpp :: gguf_init_from_reader) from a memory segment.
 * Every length and count is checked against the bytes that remain before anything is allocated from it,
 * so a hostile file gets a {@link GgufFormatException} with the offset, never an OutOfMemoryError.
 */
final class GgufParser {
    static final int MAGIC = 0x46554747; // "GGUF" little-endian
    static final int DEFAULT_ALIGNMENT = 32;
    static final int MAX_DIMS = 4;       // GGML_MAX_DIMS
    static final int MAX_NAME = 64;      // GGML_MAX_NAME (names must be shorter)
    static final int MIN_TENSOR_INFO = 24;
    static final int MIN_KV = 14;
    /**
     * The most heap the parsed metadata may take, estimated as it is read (Java objects cost more than their bytes in
     * the file: a file of tiny key/value entries needs several times its size). A real Gemma 3 vocabulary of 262144
     * tokens is about 20 MiB by this estimate; past the limit the file is refused, never parsed into an
     * OutOfMemoryError.
     */
    static final long MAX_METADATA_HEAP = 128L << 20;

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment seg;
    private final long size;
    private long pos;
    private long heap; // estimated bytes of the metadata parsed so far

    /** Adds {@code bytes} to the metadata's estimated heap; refuses the file past {@link #MAX_METADATA_HEAP}. */
    private void charge(long bytes, String key) throws GgufFormatException {
        heap += bytes;
        if (heap > MAX_METADATA_HEAP) {
            throw new GgufFormatException("the metadata would take more than " + (MAX_METADATA_HEAP >> 20)
                    + " MiB of memory (the limit) by key '" + key + "'; a real model's metadata takes a fraction of that", pos);
        }
    }

    /** Estimated heap of a String of {@code len} UTF-8 bytes (object, array header, up to 2 bytes per char). */
    private static long stringHeap(long len) {
        return 56 + 2 * len;
    }

    GgufParser(MemorySegment seg) {
        this.seg = seg;
        this.size = seg.byteSize();
    }

    record Header(int version, Map<String, GgufValue> metadata, List<GgufTensorInfo> tensors, int alignment,
                  long dataOffset) {}

    Header parse() throws GgufFormatException {
        if (size < 4) throw new GgufFormatException("truncated file: " + size + " bytes is too small for a GGUF header", 0);
        int magic = seg.get(I32, 0);
        if (magic != MAGIC) {
            throw new GgufFormatException(String.format("bad magic 0x%08x, expected \"GGUF\" (0x%08x)", magic, MAGIC), 0);
        }
        pos = 4;
        long vpos = pos;
        int version = i32("version");
        String v = Integer.toUnsignedString(version);
        // same order of checks as gguf_init_from_reader
        if (version == 0) throw new GgufFormatException("bad GGUF version 0, expected 2 or 3", vpos);
        if ((version & 0xFFFF) == 0) {
            throw new GgufFormatException(String.format("GGUF version 0x%08x looks byte-swapped: big-endian GGUF files are not supported",
                    version), vpos);
        }
        if (version == 1) throw new GgufFormatException("GGUF version 1 is not supported (it used 32-bit counts), expected 2 or 3", vpos);
        if (version != 2 && version != 3) throw new GgufFormatException("unsupported GGUF version " + v + ", expected 2 or 3", vpos);

        long cpos = pos;
        long nTensors = i64("tensor count");
        long nKv = i64("metadata count");
        // a tensor info takes at least 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset) bytes;
        // a key/value at least 8 + 1 (key) + 4 (type) + 1 (value)
        if (nTensors < 0 || nTensors > remaining() / MIN_TENSOR_INFO) {
            throw new GgufFormatException("tensor count " + Long.toUnsignedString(nTensors) + " is impossible for the "
                    + remaining() + " bytes that follow", cpos);
        }
        if (nKv < 0 || nKv > remaining() / MIN_KV) {
            throw new GgufFormatException("metadata count " + Long.toUnsignedString(nKv) + " is impossible for the "
                    + remaining() + " bytes that follow", cpos + 8);
        }

        Map<String, GgufValue> kv = new LinkedHashMap<>();
        long alignmentPos = -1;
        for (long i = 0; i < nKv; i++) {
            long kpos = pos;
            String key = string("metadata key #" + i);
            if (key.isEmpty()) throw new GgufFormatException("metadata key #" + i + " is empty", kpos);
            if (kv.containsKey(key)) throw new GgufFormatException("duplicate metadata key '" + key + "'", kpos);
            long tpos = pos;
            if (key.equals("general.alignment")) alignmentPos = tpos;
            int typeId = i32("type of '" + key + "'");
            GgufValueType type = GgufValueType.byId(typeId);
            if (type == null) throw new GgufFormatException("metadata key '" + key + "' has unknown value type " + typeId, tpos);
            charge(96 + stringHeap(key.length()), key); // map entry, value object, boxed scalar, key
            kv.put(key, type == GgufValueType.ARRAY ? array(key) : GgufValue.scalar(type, scalar(type, key)));
        }

        int alignment = DEFAULT_ALIGNMENT;
        GgufValue al = kv.get("general.alignment");
        if (al != null) {
            if (al.type() != GgufValueType.UINT32) {
                throw new GgufFormatException("general.alignment must be UINT32, found " + al.typeName(), alignmentPos);
            }
            long a = (Long) al.value();
            if (a == 0 || (a & (a - 1)) != 0 || a > (1 << 30)) {
                throw new GgufFormatException("general.alignment " + a + " is not a non-zero power of two", alignmentPos + 4);
            }
            alignment = (int) a;
        }

        List<PendingTensor> pending = new ArrayList<>((int) Math.min(nTensors, 1024));
        Set<String> names = new HashSet<>();
        for (long i = 0; i < nTensors; i++) {
            long tpos = pos;
            String name = string("name of tensor #" + i, MAX_NAME - 1);
            if (!names.add(name)) throw new GgufFormatException("duplicate tensor name '" + name + "'", tpos);
            long dpos = pos;
            int nDims = i32("n_dims of '" + name + "'");
            if (nDims < 0 || nDims > MAX_DIMS) { // llama.cpp reads a u32 and accepts 0 (a scalar)
                throw new GgufFormatException("tensor '" + name + "' has " + Integer.toUnsignedString(nDims)
                        + " dimensions, at most " + MAX_DIMS + " are allowed", dpos);
            }
            long[] ne = new long[nDims];
            long count = 1;
            for (int d = 0; d < nDims; d++) {
                long epos = pos;
                ne[d] = i64("ne[" + d + "] of '" + name + "'");
                if (ne[d] < 0) throw new GgufFormatException("tensor '" + name + "' has negative ne[" + d + "] = " + ne[d], epos);
                try {
                    count = Math.multiplyExact(count, ne[d]);
                } catch (ArithmeticException e) {
                    throw new GgufFormatException("tensor '" + name + "' element count overflows: " + java.util.Arrays.toString(ne), epos);
                }
            }
            long typePos = pos;
            int typeId = i32("type of '" + name + "'");
            GgmlType type = GgmlType.byId(typeId);
            if (type == null) throw new GgufFormatException("tensor '" + name + "' has unknown ggml type " + typeId, typePos);
            long ne0 = nDims == 0 ? 1 : ne[0];
            if (ne0 % type.blockSize != 0) {
                throw new GgufFormatException("tensor '" + name + "': ne[0] = " + ne0 + " is not a multiple of "
                        + type + "'s block size " + type.blockSize, dpos);
            }
            long bytes;
            try {
                bytes = Math.multiplyExact(count / type.blockSize, (long) type.typeSize);
            } catch (ArithmeticException e) {
                throw new GgufFormatException("tensor '" + name + "' byte size overflows", dpos);
            }
            long opos = pos;
            long offset = i64("data offset of '" + name + "'");
            if (offset < 0 || offset > size) {
                throw new GgufFormatException("tensor '" + name + "' data offset " + Long.toUnsignedString(offset)
                        + " lies beyond the end of the " + size + "-byte file", opos);
            }
            if (offset % alignment != 0) {
                throw new GgufFormatException("tensor '" + name + "' data offset " + offset
                        + " is not a multiple of the alignment " + alignment, opos);
            }
            pending.add(new PendingTensor(name, type, ne, offset, bytes, opos));
        }

        long dataOffset = nTensors == 0 ? pos : alignUp(pos, alignment);
        if (dataOffset > size) {
            throw new GgufFormatException("truncated file: the data section would start at " + dataOffset
                    + ", past the end of the " + size + "-byte file", pos);
        }
        List<GgufTensorInfo> tensors = new ArrayList<>(pending.size());
        long expected = 0;
        for (PendingTensor p : pending) {
            if (p.offset != expected) {
                throw new GgufFormatException("tensor '" + p.name + "' has offset " + p.offset + ", expected " + expected
                        + " (tensors must be packed in order, each padded to " + alignment + ")", p.infoPos);
            }
            long start = dataOffset + p.offset;
            if (p.bytes > size - start) {
                throw new GgufFormatException("truncated file: tensor '" + p.name + "' data [" + start + ", " + (start + p.bytes)
                        + ") runs past the end of the " + size + "-byte file", p.infoPos);
            }
            tensors.add(new GgufTensorInfo(p.name, p.type, p.ne, p.offset, start, p.bytes, seg.asSlice(start, p.bytes).asReadOnly()));
            expected = alignUp(p.offset + p.bytes, alignment);
        }
        return new Header(version, kv, tensors, alignment, dataOffset);
    }

    private record PendingTensor(String name, GgmlType type, long[] ne, long offset, long bytes, long infoPos) {}

    static long alignUp(long x, long alignment) {
        return (x + alignment - 1) / alignment * alignment;
    }

    private long remaining() {
        return size - pos;
    }

    private void need(long n, String what) throws GgufFormatException {
        if (n < 0 || n > size - pos) {
            throw new GgufFormatException("truncated file: " + what + " needs " + (n < 0 ? Long.toUnsignedString(n) : n)
                    + " bytes, only " + (size - pos) + " remain", pos);
        }
    }

    private int i32(String what) throws GgufFormatException {
        need(4, what);
        int v = seg.get(I32, pos);
        pos += 4;
        return v;
    }

    private long i64(String what) throws GgufFormatException {
        need(8, what);
        long v = seg.get(I64, pos);
        pos += 8;
        return v;
    }

    private String string(String what) throws GgufFormatException {
        return string(what, Integer.MAX_VALUE - 16);
    }

    /** A GGUF string (u64 byte length, then UTF-8 bytes) of at most {@code maxBytes} bytes. */
    private String string(String what, int maxBytes) throws GgufFormatException {
        long lpos = pos;
        long len = i64("length of " + what);
        if (len < 0 || len > remaining()) {
            throw new GgufFormatException("truncated file: string length " + Long.toUnsignedString(len) + " of " + what
                    + " exceeds the " + remaining() + " bytes that remain", lpos);
        }
        if (len > maxBytes) throw new GgufFormatException(what + " is " + len + " bytes long, the limit is " + maxBytes, lpos);
        return utf8(len);
    }

    /** Element {@code i} of string array {@code key}: as {@link #string} but builds no message unless it fails. */
    private String element(String key, int i) throws GgufFormatException {
        if (size - pos < 8) return string("element " + i + " of '" + key + "'"); // reports the truncation
        long len = seg.get(I64, pos);
        if (len < 0 || len > size - pos - 8) return string("element " + i + " of '" + key + "'");
        pos += 8;
        return utf8(len);
    }

    /**
     * The next {@code len} bytes as UTF-8. Invalid sequences become U+FFFD (llama.cpp keeps the raw bytes; the
     * tokens of real vocabularies are valid UTF-8).
     */
    private String utf8(long len) {
        byte[] b = new byte[(int) len];
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, b, 0, (int) len);
        pos += len;
        return new String(b, StandardCharsets.UTF_8);
    }

    private Object scalar(GgufValueType t, String key) throws GgufFormatException {
        String what = "value of '" + key + "'";
        return switch (t) {
            case UINT8 -> { need(1, what); yield seg.get(ValueLayout.JAVA_BYTE, pos++) & 0xFF; }
            case INT8 -> { need(1, what); yield seg.get(ValueLayout.JAVA_BYTE, pos++); }
            case BOOL -> { need(1, what); yield seg.get(ValueLayout.JAVA_BYTE, pos++) != 0; }
            case UINT16 -> { need(2, what); int v = seg.get(I16, pos) & 0xFFFF; pos += 2; yield v; }
            case INT16 -> { need(2, what); short v = seg.get(I16, pos); pos += 2; yield v; }
            case UINT32 -> i32(what) & 0xFFFFFFFFL;
            case INT32 -> i32(what);
            case FLOAT32 -> Float.intBitsToFloat(i32(what));
            case UINT64, INT64 -> i64(what);
            case FLOAT64 -> Double.longBitsToDouble(i64(what));
            case STRING -> {
                String str = string(what);
                charge(stringHeap(str.length()), key);
                yield str;
            }
            case ARRAY -> throw new IllegalStateException();
        };
    }

    private GgufValue array(String key) throws GgufFormatException {
        long tpos = pos;
        int et = i32("element type of '" + key + "'");
        GgufValueType type = GgufValueType.byId(et);
        if (type == null) throw new GgufFormatException("array '" + key + "' has unknown element type " + et, tpos);
        if (type == GgufValueType.ARRAY) {
            throw new GgufFormatException("array '" + key + "' holds arrays: nested arrays are not supported (llama.cpp rejects them too)", tpos);
        }
        long npos = pos;
        long n = i64("element count of '" + key + "'");
        if (n < 0 || n > remaining() / type.minSize) {
            throw new GgufFormatException("truncated file: array '" + key + "' claims " + Long.toUnsignedString(n) + " " + type
                    + " elements, but only " + remaining() + " bytes remain", npos);
        }
        if (n > Integer.MAX_VALUE - 16) {
            throw new GgufFormatException("array '" + key + "' has " + n + " elements, more than a Java array holds", npos);
        }
        int len = (int) n;
        long bytes = (long) len * type.minSize;
        charge(16 + (type == GgufValueType.STRING ? 4L * len : bytes), key);
        switch (type) {
            case STRING -> {
                String[] a = new String[len];
                for (int i = 0; i < len; i++) {
                    a[i] = element(key, i);
                    charge(stringHeap(a[i].length()), key);
                }
                return GgufValue.array(type, a);
            }
            case UINT8, INT8, BOOL -> {
                byte[] a = seg.asSlice(pos, bytes).toArray(ValueLayout.JAVA_BYTE);
                pos += bytes;
                return GgufValue.array(type, a);
            }
            case UINT16, INT16 -> {
                short[] a = seg.asSlice(pos, bytes).toArray(I16);
                pos += bytes;
                return GgufValue.array(type, a);
            }
            case UINT32, INT32 -> {
                int[] a = seg.asSlice(pos, bytes).toArray(I32);
                pos += bytes;
                return GgufValue.array(type, a);
            }
            case FLOAT32 -> {
                float[] a = seg.asSlice(pos, bytes).toArray(F32);
                pos += bytes;
                return GgufValue.array(type, a);
            }
            case UINT64, INT64 -> {
                long[] a = seg.asSlice(pos, bytes).toArray(I64);
                pos += bytes;
                return GgufValue.array(type, a);
            }
            case FLOAT64 -> {
                double[] a = seg.asSlice(pos, bytes).toArray(F64);
                pos += bytes;
                return GgufValue.array(type, a);
            }
            default -> throw new IllegalStateException();
        }
    }
}
