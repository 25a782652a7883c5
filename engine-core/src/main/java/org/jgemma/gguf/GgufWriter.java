package org.jgemma.gguf;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jgemma.ggml.GgmlType;

/**
 * Writes a GGUF v3 file laid out exactly as llama.cpp's {@code gguf_write_to_file} (ggml/src/gguf.cpp ::
 * gguf_write_out) and gguf-py's {@code GGUFWriter} do:
 * <pre>
 *   "GGUF" u32 version=3  i64 n_tensors  i64 n_kv
 *   n_kv x   (string key, i32 type, value | i32 elem type, u64 count, elements)
 *   n_tensors x (string name, u32 n_dims, i64 ne[n_dims], i32 ggml type, u64 offset)
 *   zero padding to the alignment (only when there are tensors)
 *   tensor data in insertion order, each followed by zero padding to the alignment
 * </pre>
 * A file without tensors ends right after the header, as convert_hf_to_gguf.py --vocab-only writes it (gguf.cpp
 * would pad it; readers only seek to the data section when there are tensors, so both are valid).
 * Keys and tensors keep their insertion order; {@link #put} on an existing key replaces the value in place.
 * The alignment is {@code general.alignment} (UINT32, a power of two) when that key is set, else 32.
 * Tensor data is not copied: the segments given to {@link #addTensor} are read when {@link #write} runs.
 */
public final class GgufWriter {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long CHUNK = 1L << 30; // ByteBuffer views are limited to 2 GB

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private final Map<String, Tensor> tensorsByName = new LinkedHashMap<>();
    private int version = 3;

    /** One tensor to write: {@code ne[0]} fastest; {@code data} holds exactly the tensor's bytes. */
    public record Tensor(String name, GgmlType type, long[] ne, MemorySegment data) {
        public Tensor {
            ne = ne.clone();
        }

        /** Bytes of the tensor's data (without padding). */
        public long byteSize() {
            long n = 1;
            for (long d : ne) n = Math.multiplyExact(n, d);
            return type.byteSize(n);
        }

        @Override
        public long[] ne() {
            return ne.clone();
        }
    }

    /** Sets the version field (2 and 3 share a layout; llama.cpp writes 3). */
    public GgufWriter version(int v) {
        if (v != 2 && v != 3) throw new IllegalArgumentException("GGUF version " + v + ": only 2 and 3 can be written");
        this.version = v;
        return this;
    }

    /** Adds a key, or replaces the value of an existing key in place. */
    public GgufWriter put(String key, GgufValue value) {
        if (key == null || key.isEmpty()) throw new IllegalArgumentException("metadata key must be non-empty");
        checkValue(key, value);
        if (key.equals("general.alignment")) {
            if (value.type() != GgufValueType.UINT32) {
                throw new IllegalArgumentException("general.alignment must be UINT32, got " + value.typeName());
            }
            long a = ((Number) value.value()).longValue() & 0xFFFFFFFFL;
            if (a == 0 || (a & (a - 1)) != 0 || a > (1 << 30)) {
                throw new IllegalArgumentException("general.alignment " + a + " is not a non-zero power of two");
            }
        }
        metadata.put(key, value);
        return this;
    }

    /** Copies every key of {@code metadata} in its iteration order. */
    public GgufWriter putAll(Map<String, GgufValue> metadata) {
        metadata.forEach(this::put);
        return this;
    }

    public GgufWriter remove(String key) {
        metadata.remove(key);
        return this;
    }

    public Map<String, GgufValue> metadata() {
        return java.util.Collections.unmodifiableMap(metadata);
    }

    public List<Tensor> tensors() {
        return java.util.Collections.unmodifiableList(tensors);
    }

    /**
     * Declares a tensor whose bytes the caller streams itself after {@link #writeHeader}: each tensor's data in
     * declaration order, each padded with zeros to {@link #alignment()} (as llama-quantize writes tensor by tensor).
     * A writer holding declared tensors cannot {@link #write} the whole file.
     */
    public GgufWriter declareTensor(String name, GgmlType type, long[] ne) {
        return add(name, type, ne, null);
    }

    /** Adds a tensor; {@code data.byteSize()} must equal the size its type and shape imply. */
    public GgufWriter addTensor(String name, GgmlType type, long[] ne, MemorySegment data) {
        if (data == null) throw new IllegalArgumentException("tensor '" + name + "' has no data");
        return add(name, type, ne, data);
    }

    private GgufWriter add(String name, GgmlType type, long[] ne, MemorySegment data) {
        if (name == null) throw new IllegalArgumentException("tensor name is null");
        int nameBytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (nameBytes >= GgufParser.MAX_NAME) {
            throw new IllegalArgumentException("tensor name '" + name + "' is " + nameBytes + " bytes, the limit is " + (GgufParser.MAX_NAME - 1));
        }
        if (type == null) throw new IllegalArgumentException("tensor '" + name + "' has no type");
        if (tensorsByName.containsKey(name)) throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        if (ne.length > GgufParser.MAX_DIMS) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + ne.length + " dimensions, at most " + GgufParser.MAX_DIMS);
        }
        long count = 1;
        for (long d : ne) {
            if (d < 0) throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension: " + Arrays.toString(ne));
            count = Math.multiplyExact(count, d);
        }
        if (ne.length > 0 && ne[0] % type.blockSize != 0) {
            throw new IllegalArgumentException("tensor '" + name + "': ne[0] = " + ne[0] + " is not a multiple of " + type
                    + "'s block size " + type.blockSize);
        }
        long bytes = type.byteSize(count);
        if (data != null && data.byteSize() != bytes) {
            throw new IllegalArgumentException("tensor '" + name + "' " + type + " " + Arrays.toString(ne) + " needs " + bytes
                    + " bytes, data has " + data.byteSize());
        }
        Tensor t = new Tensor(name, type, ne, data);
        tensors.add(t);
        tensorsByName.put(name, t);
        return this;
    }

    public GgufWriter addTensor(String name, GgmlType type, long[] ne, byte[] data) {
        return addTensor(name, type, ne, MemorySegment.ofArray(data));
    }

    /** The alignment the file will use. */
    public int alignment() {
        GgufValue a = metadata.get("general.alignment");
        return a == null ? GgufParser.DEFAULT_ALIGNMENT : (int) ((Number) a.value()).longValue();
    }

    /** Size of the header (everything before the data section, padding included). */
    public long headerSize() {
        return header().byteSize();
    }

    /** Total file size. */
    public long fileSize() {
        long n = headerSize();
        for (Tensor t : tensors) n += GgufParser.alignUp(t.byteSize(), alignment());
        return n;
    }

    /** Writes the file, replacing any existing one. */
    public void write(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            write(ch);
        }
    }

    /** Writes everything before the data section (header, tensor infos, padding): the start of a streamed file. */
    public void writeHeader(WritableByteChannel out) throws IOException {
        writeFully(out, header());
    }

    /** Writes the whole file to {@code out}. */
    public void write(WritableByteChannel out) throws IOException {
        for (Tensor t : tensors) {
            if (t.data == null) throw new IllegalStateException("tensor '" + t.name + "' was declared without data: stream it after writeHeader");
        }
        int alignment = alignment();
        writeFully(out, header());
        MemorySegment zeros = MemorySegment.ofArray(new byte[alignment]);
        for (Tensor t : tensors) {
            writeFully(out, t.data);
            long pad = GgufParser.alignUp(t.data.byteSize(), alignment) - t.data.byteSize();
            if (pad > 0) writeFully(out, zeros.asSlice(0, pad));
        }
    }

    /** The whole file in memory (small files: tests, fuzz seeds). */
    public byte[] toByteArray() {
        long size = fileSize();
        if (size > Integer.MAX_VALUE - 16) throw new IllegalStateException("file of " + size + " bytes does not fit in a byte[]");
        var out = new java.io.ByteArrayOutputStream((int) size);
        try {
            write(java.nio.channels.Channels.newChannel(out));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void writeFully(WritableByteChannel out, MemorySegment seg) throws IOException {
        for (long off = 0; off < seg.byteSize(); off += CHUNK) {
            ByteBuffer b = seg.asSlice(off, Math.min(CHUNK, seg.byteSize() - off)).asByteBuffer();
            while (b.hasRemaining()) out.write(b);
        }
    }

    private MemorySegment header() {
        Buf b = new Buf();
        b.i32(GgufParser.MAGIC);
        b.i32(version);
        b.i64(tensors.size());
        b.i64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            b.string(e.getKey());
            GgufValue v = e.getValue();
            b.i32(v.type().ordinal());
            if (v.isArray()) {
                b.i32(v.elementType().ordinal());
                b.i64(v.arrayLength());
                writeArray(b, v.elementType(), v.value());
            } else {
                writeScalar(b, v.type(), v.value());
            }
        }
        long offset = 0;
        int alignment = alignment();
        for (Tensor t : tensors) {
            b.string(t.name);
            b.i32(t.ne.length);
            for (long d : t.ne) b.i64(d);
            b.i32(t.type.id);
            b.i64(offset);
            offset += GgufParser.alignUp(t.byteSize(), alignment);
        }
        if (!tensors.isEmpty()) b.pad(alignment);
        return b.segment();
    }

    private static void writeScalar(Buf b, GgufValueType t, Object v) {
        switch (t) {
            case UINT8, INT8 -> b.u8(((Number) v).intValue());
            case BOOL -> b.u8((Boolean) v ? 1 : 0);
            case UINT16, INT16 -> { b.u8(((Number) v).intValue()); b.u8(((Number) v).intValue() >> 8); }
            case UINT32, INT32 -> b.i32((int) ((Number) v).longValue());
            case FLOAT32 -> b.i32(Float.floatToRawIntBits(((Number) v).floatValue()));
            case UINT64, INT64 -> b.i64(((Number) v).longValue());
            case FLOAT64 -> b.i64(Double.doubleToRawLongBits(((Number) v).doubleValue()));
            case STRING -> b.string((String) v);
            case ARRAY -> throw new IllegalArgumentException("ARRAY is not a scalar type");
        }
    }

    private static void writeArray(Buf b, GgufValueType et, Object a) {
        switch (a) {
            case byte[] x -> b.bytes(x);
            case short[] x -> { for (short s : x) { b.u8(s); b.u8(s >> 8); } }
            case int[] x -> { for (int i : x) b.i32(i); }
            case long[] x -> { for (long l : x) b.i64(l); }
            case float[] x -> { for (float f : x) b.i32(Float.floatToRawIntBits(f)); }
            case double[] x -> { for (double d : x) b.i64(Double.doubleToRawLongBits(d)); }
            case boolean[] x -> { for (boolean z : x) b.u8(z ? 1 : 0); }
            case String[] x -> { for (String s : x) b.string(s); }
            default -> throw new IllegalArgumentException("not an array of " + et + ": " + a.getClass().getName());
        }
    }

    /** Rejects values the encoder could not write faithfully, naming the key. */
    private static void checkValue(String key, GgufValue v) {
        if (v == null || v.type() == null || v.value() == null) throw new IllegalArgumentException("metadata key '" + key + "': null value");
        if (!v.isArray()) {
            boolean ok = switch (v.type()) {
                case STRING -> v.value() instanceof String;
                case BOOL -> v.value() instanceof Boolean;
                default -> v.value() instanceof Number;
            };
            if (!ok) throw new IllegalArgumentException("metadata key '" + key + "': " + v.type() + " cannot hold a "
                    + v.value().getClass().getSimpleName());
            return;
        }
        GgufValueType et = v.elementType();
        Object a = v.value();
        boolean ok = switch (et) {
            case null -> false;
            case UINT8, INT8 -> a instanceof byte[];
            case BOOL -> a instanceof byte[] || a instanceof boolean[];
            case UINT16, INT16 -> a instanceof short[];
            case UINT32, INT32 -> a instanceof int[];
            case FLOAT32 -> a instanceof float[];
            case UINT64, INT64 -> a instanceof long[];
            case FLOAT64 -> a instanceof double[];
            case STRING -> a instanceof String[] s && Arrays.stream(s).allMatch(java.util.Objects::nonNull);
            case ARRAY -> false; // nested arrays: llama.cpp rejects them
        };
        if (!ok) throw new IllegalArgumentException("metadata key '" + key + "': cannot write " + a.getClass().getSimpleName()
                + " as an array of " + et);
    }

    /** A growable little-endian byte buffer. */
    private static final class Buf {
        private byte[] a = new byte[1 << 12];
        private int n;

        private void ensure(long more) {
            if (n + more > a.length) {
                long cap = Math.max(n + more, 2L * a.length);
                if (cap > Integer.MAX_VALUE - 16) throw new IllegalStateException("GGUF header larger than 2 GB");
                a = Arrays.copyOf(a, (int) cap);
            }
        }

        void u8(int v) { ensure(1); a[n++] = (byte) v; }
        void i32(int v) { ensure(4); MemorySegment.ofArray(a).set(I32, n, v); n += 4; }
        void i64(long v) { ensure(8); MemorySegment.ofArray(a).set(I64, n, v); n += 8; }
        void bytes(byte[] b) { ensure(b.length); System.arraycopy(b, 0, a, n, b.length); n += b.length; }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            bytes(b);
        }

        void pad(int alignment) {
            int to = (int) GgufParser.alignUp(n, alignment);
            ensure(to - n);
            n = to; // the array is zero-filled
        }

        MemorySegment segment() {
            return MemorySegment.ofArray(a).asSlice(0, n);
        }
    }
}
