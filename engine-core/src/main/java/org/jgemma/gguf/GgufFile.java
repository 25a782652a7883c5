package org.jgemma.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A GGUF file, memory-mapped read-only: metadata plus tensor infos whose {@code data()} are views over the
 * mapping (no copies), so a file of many GB opens in milliseconds. Close it to unmap; tensor views are
 * invalid afterwards. Thread-safe for reading.
 */
public final class GgufFile implements AutoCloseable {
    private final Path path;
    private final Arena arena;
    private final MemorySegment mapping;
    private final int version;
    private final Map<String, GgufValue> metadata;
    private final List<GgufTensorInfo> tensors;
    private final Map<String, GgufTensorInfo> byName;
    private final int alignment;
    private final long dataOffset;

    private GgufFile(Path path, Arena arena, MemorySegment mapping, GgufParser.Header h) {
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        this.version = h.version();
        this.metadata = Collections.unmodifiableMap(h.metadata());
        this.tensors = List.copyOf(h.tensors());
        Map<String, GgufTensorInfo> m = new LinkedHashMap<>();
        for (GgufTensorInfo t : tensors) m.put(t.name(), t);
        this.byName = Collections.unmodifiableMap(m);
        this.alignment = h.alignment();
        this.dataOffset = h.dataOffset();
    }

    /** Maps and parses {@code path}. Malformed input gives a {@link GgufFormatException} naming the problem and offset. */
    public static GgufFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment seg = size == 0 ? MemorySegment.ofArray(new byte[0]) : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            GgufParser.Header h = new GgufParser(seg).parse();
            return new GgufFile(path, arena, seg, h);
        } catch (GgufFormatException e) {
            arena.close();
            throw new GgufFormatException(path.getFileName() + ": " + e.getMessage().replaceFirst(" \\(at file offset -?\\d+\\)$", ""), e.offset());
        } catch (IOException | RuntimeException | Error e) {
            arena.close(); // an OutOfMemoryError too: never leave the mapping behind
            throw e;
        }
    }

    /** Parses an in-memory GGUF image (tests, fuzzing). The segment must stay valid while this object is used. */
    public static GgufFile parse(MemorySegment image) throws GgufFormatException {
        GgufParser.Header h = new GgufParser(image).parse();
        return new GgufFile(null, null, image, h);
    }

    public Path path() { return path; }
    public int version() { return version; }
    public int alignment() { return alignment; }
    public long dataOffset() { return dataOffset; }
    public long fileSize() { return mapping.byteSize(); }
    public Map<String, GgufValue> metadata() { return metadata; }
    public List<GgufTensorInfo> tensors() { return tensors; }

    public Optional<GgufTensorInfo> findTensor(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The tensor with this exact name, or a {@link GgufFormatException} that names it. */
    public GgufTensorInfo tensor(String name) throws GgufFormatException {
        GgufTensorInfo t = byName.get(name);
        if (t == null) throw new GgufFormatException("missing tensor '" + name + "'", -1);
        return t;
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    public Optional<GgufValue> find(String key) {
        return Optional.ofNullable(metadata.get(key));
    }

    private GgufValue require(String key) throws GgufFormatException {
        GgufValue v = metadata.get(key);
        if (v == null) throw new GgufFormatException("missing metadata key '" + key + "'", -1);
        return v;
    }

    private static GgufFormatException wrongType(String key, String expected, GgufValue v) {
        return new GgufFormatException("metadata key '" + key + "': expected " + expected + ", found " + v.typeName(), -1);
    }

    /** A string value. */
    public String getString(String key) throws GgufFormatException {
        GgufValue v = require(key);
        if (v.type() != GgufValueType.STRING) throw wrongType(key, "STRING", v);
        return (String) v.value();
    }

    public Optional<String> findString(String key) throws GgufFormatException {
        return has(key) ? Optional.of(getString(key)) : Optional.empty();
    }

    /** Any integer type, as a long (UINT64 values above Long.MAX_VALUE are rejected). */
    public long getLong(String key) throws GgufFormatException {
        GgufValue v = require(key);
        if (!v.type().isInteger()) throw wrongType(key, "an integer", v);
        long x = ((Number) v.value()).longValue();
        if (v.type() == GgufValueType.UINT64 && x < 0) {
            throw new GgufFormatException("metadata key '" + key + "': value " + Long.toUnsignedString(x) + " is too large", -1);
        }
        return x;
    }

    /** Any integer type that fits an int. */
    public int getInt(String key) throws GgufFormatException {
        long x = getLong(key);
        if (x < Integer.MIN_VALUE || x > Integer.MAX_VALUE) {
            throw new GgufFormatException("metadata key '" + key + "': value " + x + " does not fit in an int", -1);
        }
        return (int) x;
    }

    public Optional<Integer> findInt(String key) throws GgufFormatException {
        return has(key) && !metadata.get(key).isArray() ? Optional.of(getInt(key)) : Optional.empty();
    }

    /** FLOAT32 or FLOAT64 (integers are accepted too, as llama.cpp's converters sometimes write them). */
    public double getDouble(String key) throws GgufFormatException {
        GgufValue v = require(key);
        if (v.type() == GgufValueType.FLOAT32 || v.type() == GgufValueType.FLOAT64 || v.type().isInteger()) {
            return ((Number) v.value()).doubleValue();
        }
        throw wrongType(key, "a number", v);
    }

    public Optional<Float> findFloat(String key) throws GgufFormatException {
        return has(key) && !metadata.get(key).isArray() ? Optional.of((float) getDouble(key)) : Optional.empty();
    }

    public boolean getBool(String key) throws GgufFormatException {
        GgufValue v = require(key);
        if (v.type() != GgufValueType.BOOL) throw wrongType(key, "BOOL", v);
        return (Boolean) v.value();
    }

    public Optional<Boolean> findBool(String key) throws GgufFormatException {
        return has(key) ? Optional.of(getBool(key)) : Optional.empty();
    }

    public String[] getStringArray(String key) throws GgufFormatException {
        GgufValue v = require(key);
        if (!v.isArray() || v.elementType() != GgufValueType.STRING) throw wrongType(key, "[STRING]", v);
        return (String[]) v.value();
    }

    public float[] getFloatArray(String key) throws GgufFormatException {
        GgufValue v = require(key);
        if (!v.isArray() || v.elementType() != GgufValueType.FLOAT32) throw wrongType(key, "[FLOAT32]", v);
        return (float[]) v.value();
    }

    /** An array of INT32 or UINT32 values. */
    public int[] getIntArray(String key) throws GgufFormatException {
        GgufValue v = require(key);
        if (!v.isArray() || (v.elementType() != GgufValueType.INT32 && v.elementType() != GgufValueType.UINT32)) {
            throw wrongType(key, "[INT32]", v);
        }
        return (int[]) v.value();
    }

    @Override
    public void close() {
        if (arena != null) arena.close();
    }

    @Override
    public String toString() {
        return "GgufFile[" + path + ", v" + version + ", " + metadata.size() + " keys, " + tensors.size() + " tensors]";
    }
}
