package org.jgemma.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jgemma.ggml.GgmlType;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GgufWriter against llama.cpp's writers: files written by gguf-py's GGUFWriter (tools/gguf/make-writer-golden.py)
 * must come out byte for byte, and fixtures written by gguf-py (convert_hf_to_gguf) and by gguf.cpp
 * (llama-quantize) must survive a read + write unchanged.
 */
class GgufWriterTest {
    @TempDir
    Path tmp;

    static byte[] resource(String name) throws IOException {
        try (InputStream in = GgufWriterTest.class.getResourceAsStream("/gguf/" + name)) {
            if (in == null) throw new IllegalStateException("missing test resource /gguf/" + name);
            return in.readAllBytes();
        }
    }

    /** Byte i of tensor k, as make-writer-golden.py's pattern(). */
    static byte[] pattern(int n, int k) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) ((i * 7L + k * 13L) & 0xFF);
        return b;
    }

    /** The five tensors of make-writer-golden.py's TENSORS. */
    static void addGoldenTensors(GgufWriter w) {
        w.addTensor("tok.weight", GgmlType.F32, new long[] {3, 5}, pattern(60, 0));
        w.addTensor("h", GgmlType.F16, new long[] {7}, pattern(14, 1));
        w.addTensor("blk.0.q8", GgmlType.Q8_0, new long[] {64, 2}, pattern(136, 2));
        w.addTensor("blk.0.q4k", GgmlType.Q4_K, new long[] {256, 1, 1, 1}, pattern(144, 3));
        w.addTensor("ids", GgmlType.I32, new long[] {2, 2, 2}, pattern(32, 4));
    }

    /** The metadata of make-writer-golden.py's all_types(), in the same order. */
    static GgufWriter allTypes() {
        GgufWriter w = new GgufWriter();
        w.put("t.u8", GgufValue.ofUInt8(200));
        w.put("t.i8", GgufValue.ofInt8((byte) -100));
        w.put("t.u16", GgufValue.ofUInt16(65000));
        w.put("t.i16", GgufValue.ofInt16((short) -32000));
        w.put("t.u32", GgufValue.ofUInt32(4_000_000_000L));
        w.put("t.i32", GgufValue.ofInt32(-2_000_000_000));
        w.put("t.f32", GgufValue.ofFloat32(1.5e-3f));
        w.put("t.bool", GgufValue.ofBool(true));
        w.put("t.str", GgufValue.ofString("héllo \u2603 world"));
        w.put("t.u64", GgufValue.ofUInt64(Long.parseUnsignedLong("18000000000000000000")));
        w.put("t.i64", GgufValue.ofInt64(-9_000_000_000_000_000_000L));
        w.put("t.f64", GgufValue.ofFloat64(-2.25e100));
        w.put("a.u8", GgufValue.array(GgufValueType.UINT8, new byte[] {0, 1, (byte) 255}));
        w.put("a.i8", GgufValue.array(GgufValueType.INT8, new byte[] {-128, 0, 127}));
        w.put("a.u16", GgufValue.array(GgufValueType.UINT16, new short[] {0, (short) 65535}));
        w.put("a.i16", GgufValue.array(GgufValueType.INT16, new short[] {-32768, 32767}));
        w.put("a.u32", GgufValue.array(GgufValueType.UINT32, new int[] {0, (int) 4294967295L}));
        w.put("a.i32", GgufValue.ofInt32Array(-1, 2, -3));
        w.put("a.f32", GgufValue.ofFloat32Array(0.25f, -1.0e10f, 3.0f));
        w.put("a.bool", GgufValue.array(GgufValueType.BOOL, new byte[] {1, 0, 1}));
        w.put("a.str", GgufValue.ofStringArray("", "a", "<unused0>", "\u2581the", "日本"));
        w.put("a.u64", GgufValue.array(GgufValueType.UINT64, new long[] {0, -1L}));
        w.put("a.i64", GgufValue.array(GgufValueType.INT64, new long[] {Long.MIN_VALUE, Long.MAX_VALUE}));
        w.put("a.f64", GgufValue.array(GgufValueType.FLOAT64, new double[] {1.0e-300, -0.5}));
        w.put("general.architecture", GgufValue.ofString("gemma3"));
        addGoldenTensors(w);
        return w;
    }

    @Test
    void everyValueTypeMatchesGgufPyByteForByte() throws IOException {
        assertArrayEquals(resource("all-types.gguf"), allTypes().toByteArray());
    }

    @Test
    void customAlignmentMatchesGgufPyByteForByte() throws IOException {
        GgufWriter w = new GgufWriter();
        w.put("general.alignment", GgufValue.ofUInt32(64));
        w.put("general.name", GgufValue.ofString("align64"));
        addGoldenTensors(w);
        assertEquals(64, w.alignment());
        assertArrayEquals(resource("align64.gguf"), w.toByteArray());
    }

    @Test
    void writeToPathThenOpenGivesIdenticalMetadataAndTensors() throws IOException {
        GgufWriter w = allTypes();
        // values gguf-py cannot write: empty arrays and a string outside the BMP
        w.put("e.empty", GgufValue.array(GgufValueType.FLOAT32, new float[0]));
        w.put("e.emptystr", GgufValue.ofStringArray());
        w.put("e.astral", GgufValue.ofString("\uD83D\uDE00 grin"));
        w.addTensor("zero", GgmlType.F32, new long[] {0, 3}, new byte[0]);
        w.addTensor("last", GgmlType.Q4_0, new long[] {32, 3}, pattern(54, 9));
        Path p = tmp.resolve("rt.gguf");
        w.write(p);
        assertEquals(w.fileSize(), Files.size(p));
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(3, f.version());
            assertEquals(List.copyOf(w.metadata().keySet()), List.copyOf(f.metadata().keySet()));
            for (Map.Entry<String, GgufValue> e : w.metadata().entrySet()) {
                assertEquals(e.getValue(), f.metadata().get(e.getKey()), e.getKey());
            }
            assertEquals(w.tensors().size(), f.tensors().size());
            for (int i = 0; i < w.tensors().size(); i++) {
                GgufWriter.Tensor t = w.tensors().get(i);
                GgufTensorInfo g = f.tensors().get(i);
                assertEquals(t.name(), g.name());
                assertEquals(t.type(), g.type());
                assertArrayEquals(t.ne(), g.ne());
                assertEquals(0, g.fileOffset() % 32, "aligned data of " + t.name());
                assertArrayEquals(t.data().toArray(ValueLayout.JAVA_BYTE), g.data().toArray(ValueLayout.JAVA_BYTE), t.name());
            }
        }
    }

    @Test
    void readerSeesTheValuesGgufPyWrote() throws IOException {
        GgufFile f = GgufFile.parse(MemorySegment.ofArray(resource("all-types.gguf")));
        // expected values as gguf_dump.py prints them for this file
        assertEquals(200, f.getInt("t.u8"));
        assertEquals(-100, f.getInt("t.i8"));
        assertEquals(65000, f.getInt("t.u16"));
        assertEquals(-32000, f.getInt("t.i16"));
        assertEquals(4_000_000_000L, f.getLong("t.u32"));
        assertEquals(-2_000_000_000, f.getInt("t.i32"));
        assertEquals(0.001500000013038516, f.getDouble("t.f32"), 0.0);
        assertTrue(f.getBool("t.bool"));
        assertEquals("héllo ☃ world", f.getString("t.str"));
        assertEquals("18000000000000000000", f.metadata().get("t.u64").render(8));
        assertEquals(-9_000_000_000_000_000_000L, f.getLong("t.i64"));
        assertEquals(-2.25e100, f.getDouble("t.f64"), 0.0);
        assertEquals("[0, 1, 255]", f.metadata().get("a.u8").render(8));
        assertEquals("[-128, 0, 127]", f.metadata().get("a.i8").render(8));
        assertEquals("[0, 65535]", f.metadata().get("a.u16").render(8));
        assertEquals("[0, 4294967295]", f.metadata().get("a.u32").render(8));
        assertArrayEquals(new int[] {-1, 2, -3}, f.getIntArray("a.i32"));
        assertArrayEquals(new float[] {0.25f, -1.0e10f, 3.0f}, f.getFloatArray("a.f32"));
        assertEquals("[true, false, true]", f.metadata().get("a.bool").render(8));
        assertArrayEquals(new String[] {"", "a", "<unused0>", "▁the", "日本"}, f.getStringArray("a.str"));
        assertEquals("[0, 18446744073709551615]", f.metadata().get("a.u64").render(8));
        assertEquals("[-9223372036854775808, 9223372036854775807]", f.metadata().get("a.i64").render(8));
        assertEquals("[1.0E-300, -0.5]", f.metadata().get("a.f64").render(8));
        List<String> names = new ArrayList<>();
        for (GgufTensorInfo t : f.tensors()) names.add(t.name() + " " + t.type() + " " + java.util.Arrays.toString(t.ne()));
        assertEquals(List.of("tok.weight F32 [3, 5]", "h F16 [7]", "blk.0.q8 Q8_0 [64, 2]", "blk.0.q4k Q4_K [256, 1, 1, 1]",
                "ids I32 [2, 2, 2]"), names);
        assertArrayEquals(pattern(136, 2), f.tensor("blk.0.q8").data().toArray(ValueLayout.JAVA_BYTE));
    }

    /** Fixtures from both llama.cpp writers: gguf-py (f32, vocab) and gguf.cpp via llama-quantize (q4_k_m). */
    @ParameterizedTest
    @ValueSource(strings = {"tinygqa/gemma3-tinygqa-q4_k_m.gguf", "tinymix/gemma3-tinymix-q4_k_m.gguf",
            "tiny/gemma3-tiny-f32.gguf", "gemma3-vocab.gguf"})
    void copyingAFixtureIsByteIdentical(String fixture) throws IOException {
        Path src = Fixtures.file(fixture);
        Path dst = tmp.resolve("copy.gguf");
        try (GgufFile f = GgufFile.open(src)) {
            GgufWriter w = new GgufWriter().version(f.version()).putAll(f.metadata());
            for (GgufTensorInfo t : f.tensors()) w.addTensor(t.name(), t.type(), t.ne(), t.data());
            w.write(dst);
        }
        assertEquals(Files.size(src), Files.size(dst));
        assertEquals(-1L, Files.mismatch(src, dst), "first differing byte");
    }

    @Test
    void rejectsWhatLlamaCppCannotRead() {
        GgufWriter w = new GgufWriter();
        w.addTensor("a", GgmlType.F32, new long[] {1}, new byte[4]);
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("a", GgmlType.F32, new long[] {1}, new byte[4]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("x".repeat(64), GgmlType.F32, new long[] {1}, new byte[4]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("b", GgmlType.F32, new long[] {2}, new byte[4]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("c", GgmlType.Q8_0, new long[] {16}, new byte[17]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("d", GgmlType.F32, new long[] {1, 1, 1, 1, 1}, new byte[4]));
        assertThrows(IllegalArgumentException.class, () -> w.put("general.alignment", GgufValue.ofUInt32(48)));
        assertThrows(IllegalArgumentException.class, () -> w.put("general.alignment", GgufValue.ofInt32(64)));
        assertThrows(IllegalArgumentException.class, () -> w.put("", GgufValue.ofBool(true)));
        assertThrows(IllegalArgumentException.class, () -> w.put("k", GgufValue.scalar(GgufValueType.UINT32, "7")));
        assertThrows(IllegalArgumentException.class, () -> w.put("k", GgufValue.array(GgufValueType.INT32, new float[1])));
        assertThrows(IllegalArgumentException.class, () -> w.put("k", GgufValue.array(GgufValueType.ARRAY, new int[1])));
    }

    @Test
    void putReplacesInPlace() {
        GgufWriter w = new GgufWriter();
        w.put("a", GgufValue.ofInt32(1)).put("b", GgufValue.ofInt32(2)).put("a", GgufValue.ofInt32(3));
        assertEquals(List.of("a", "b"), List.copyOf(w.metadata().keySet()));
        assertEquals(GgufValue.ofInt32(3), w.metadata().get("a"));
    }
}
