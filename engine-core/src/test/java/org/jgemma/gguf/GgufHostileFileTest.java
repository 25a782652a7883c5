package org.jgemma.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.jgemma.ggml.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed GGUF files, one case per test, each checked against the rules of llama.cpp's reader
 * (ggml/src/gguf.cpp :: gguf_init_from_reader; FACTS.md §1): the parser must throw a GgufFormatException whose
 * message names the problem and whose offset is where the offending field starts.
 */
class GgufHostileFileTest {
    static final int U32 = GgufValueType.UINT32.ordinal();
    static final int F32 = GgmlType.F32.id;

    @TempDir
    Path tmp;

    /** Parses {@code file}, expects a GgufFormatException at {@code offset} whose message contains every fragment. */
    static GgufFormatException fails(byte[] file, long offset, String... fragments) {
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.parse(MemorySegment.ofArray(file)));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "message '" + e.getMessage() + "' should contain '" + f + "'");
        }
        assertEquals(offset, e.offset(), () -> "offset of: " + e.getMessage());
        return e;
    }

    /** A valid file: one key, two F32 tensors (3 and 2 floats), default alignment. Used as a base for edits. */
    static byte[] valid() {
        RawGguf r = RawGguf.header(3, 2, 1).kvString("general.architecture", "gemma3");
        r.tensor("a", new long[] {3}, F32, 0).tensor("b", new long[] {2}, F32, 32).pad(32);
        return r.zeros(32).zeros(8).toArray();
    }

    @Test
    void theBaseFileIsValid() throws GgufFormatException {
        GgufFile f = GgufFile.parse(MemorySegment.ofArray(valid()));
        assertEquals(2, f.tensors().size());
        assertEquals(f.dataOffset() + 32, f.tensor("b").fileOffset());
    }

    @Test
    void truncatedAtEveryCutPoint() throws IOException {
        for (byte[] file : new byte[][] {valid(), GgufWriterTest.resource("all-types.gguf")}) {
            for (int cut = 0; cut < file.length; cut++) {
                byte[] part = Arrays.copyOf(file, cut);
                GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.parse(MemorySegment.ofArray(part)),
                        "cut at " + cut);
                // a cut inside the counts leaves too few bytes for them: reported as an impossible count
                assertTrue(e.getMessage().startsWith("truncated file") || e.getMessage().contains("count")
                        && e.getMessage().contains("is impossible"), "cut at " + cut + ": " + e.getMessage());
                assertTrue(e.offset() >= 0 && e.offset() <= cut, "cut at " + cut + ": offset " + e.offset());
            }
        }
    }

    @Test
    void truncatedInsideAValueNamesTheKeyAndWhereTheValueStarts() {
        byte[] file = RawGguf.header(3, 0, 1).str("x.n").u32(U32).u8(7).u8(0).toArray();
        fails(file, 4 + 4 + 16 + 11 + 4, "truncated file", "value of 'x.n'", "needs 4 bytes, only 2 remain");
    }

    @Test
    void emptyFile() throws IOException {
        Path p = tmp.resolve("empty.gguf");
        Files.write(p, new byte[0]);
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(p));
        assertTrue(e.getMessage().startsWith("empty.gguf: truncated file"), e.getMessage());
    }

    @Test
    void badMagic() {
        byte[] file = valid();
        file[3] = 'G';
        fails(file, 0, "bad magic", "GGUF");
    }

    @Test
    void versionZero() { fails(RawGguf.header(0, 0, 0).toArray(), 4, "bad GGUF version 0"); }

    @Test
    void versionOne() { fails(RawGguf.header(1, 0, 0).toArray(), 4, "version 1 is not supported"); }

    @Test
    void versionFour() { fails(RawGguf.header(4, 0, 0).toArray(), 4, "unsupported GGUF version 4"); }

    @Test
    void versionHuge() { fails(RawGguf.header(-1, 0, 0).toArray(), 4, "unsupported GGUF version 4294967295"); }

    @Test
    void versionByteSwapped() { fails(RawGguf.header(0x03000000, 0, 0).toArray(), 4, "byte-swapped", "big-endian"); }

    @Test
    void versionTwoIsAccepted() throws GgufFormatException {
        assertEquals(2, GgufFile.parse(MemorySegment.ofArray(RawGguf.header(2, 0, 0).toArray())).version());
    }

    @Test
    void tensorCountLargerThanTheFile() { fails(RawGguf.header(3, 1000, 0).zeros(100).toArray(), 8, "tensor count 1000 is impossible"); }

    @Test
    void negativeTensorCount() { fails(RawGguf.header(3, -1, 0).toArray(), 8, "tensor count 18446744073709551615 is impossible"); }

    @Test
    void metadataCountLargerThanTheFile() {
        fails(RawGguf.header(3, 0, Long.MAX_VALUE).zeros(64).toArray(), 16, "metadata count 9223372036854775807 is impossible");
    }

    @Test
    void keyLengthLargerThanTheFile() {
        fails(RawGguf.header(3, 0, 1).i64(1L << 40).zeros(20).toArray(), 24, "truncated file", "string length 1099511627776",
                "metadata key #0");
    }

    @Test
    void stringValueLengthLargerThanTheFile() {
        RawGguf r = RawGguf.header(3, 0, 1).str("k").u32(GgufValueType.STRING.ordinal());
        long at = r.pos();
        fails(r.i64(-2).zeros(16).toArray(), at, "string length 18446744073709551614", "value of 'k'");
    }

    @Test
    void arrayLengthLargerThanTheFile() {
        RawGguf r = RawGguf.header(3, 0, 1).str("tokenizer.ggml.scores").u32(GgufValueType.ARRAY.ordinal())
                .u32(GgufValueType.FLOAT32.ordinal());
        long at = r.pos();
        fails(r.i64(262144).zeros(400).toArray(), at, "array 'tokenizer.ggml.scores' claims 262144 FLOAT32 elements");
    }

    @Test
    void stringArrayLengthLargerThanTheFile() {
        RawGguf r = RawGguf.header(3, 0, 1).str("tokenizer.ggml.tokens").u32(GgufValueType.ARRAY.ordinal())
                .u32(GgufValueType.STRING.ordinal());
        long at = r.pos();
        // 100 bytes could hold 100 UINT8 but not 100 strings of at least 8 bytes each
        fails(r.i64(100).zeros(100).toArray(), at, "claims 100 STRING elements");
    }

    @Test
    void nestedArray() {
        RawGguf r = RawGguf.header(3, 0, 1).str("nest").u32(GgufValueType.ARRAY.ordinal());
        long at = r.pos();
        fails(r.u32(GgufValueType.ARRAY.ordinal()).i64(1).zeros(32).toArray(), at, "array 'nest' holds arrays");
    }

    @Test
    void unknownValueType() {
        RawGguf r = RawGguf.header(3, 0, 1).str("odd");
        long at = r.pos();
        fails(r.u32(13).zeros(8).toArray(), at, "metadata key 'odd' has unknown value type 13");
    }

    @Test
    void unknownArrayElementType() {
        RawGguf r = RawGguf.header(3, 0, 1).str("odd").u32(GgufValueType.ARRAY.ordinal());
        long at = r.pos();
        fails(r.u32(-5).i64(0).toArray(), at, "array 'odd' has unknown element type -5");
    }

    @Test
    void emptyKey() {
        fails(RawGguf.header(3, 0, 1).str("").u32(U32).u32(1).toArray(), 24, "metadata key #0 is empty");
    }

    @Test
    void duplicateKey() {
        RawGguf r = RawGguf.header(3, 0, 2).kvU32("k.x", 1);
        long at = r.pos();
        fails(r.kvU32("k.x", 2).toArray(), at, "duplicate metadata key 'k.x'");
    }

    @Test
    void unknownTensorType() {
        RawGguf r = RawGguf.header(3, 1, 0).str("w").u32(1).i64(32);
        long at = r.pos();
        fails(r.u32(100).i64(0).pad(32).zeros(128).toArray(), at, "tensor 'w' has unknown ggml type 100");
    }

    @Test
    void retiredTensorType() {
        RawGguf r = RawGguf.header(3, 1, 0).str("w").u32(1).i64(32);
        long at = r.pos();
        fails(r.u32(4).i64(0).pad(32).zeros(128).toArray(), at, "unknown ggml type 4"); // Q4_2, removed from ggml
    }

    @Test
    void tooManyDimensions() {
        RawGguf r = RawGguf.header(3, 1, 0).str("w");
        long at = r.pos();
        fails(r.u32(5).zeros(64).toArray(), at, "tensor 'w' has 5 dimensions, at most 4");
    }

    @Test
    void dimensionProductOverflows() {
        RawGguf r = RawGguf.header(3, 1, 0).str("w").u32(3).i64(1L << 31).i64(1L << 31);
        long at = r.pos();
        fails(r.i64(1L << 31).u32(F32).i64(0).zeros(32).toArray(), at, "tensor 'w' element count overflows");
    }

    @Test
    void byteSizeOverflows() {
        // 2^62 F32 elements fit a long, their 2^64 bytes do not
        RawGguf r = RawGguf.header(3, 1, 0).str("w");
        long at = r.pos();
        fails(r.u32(2).i64(1L << 31).i64(1L << 31).u32(F32).i64(0).zeros(32).toArray(), at, "tensor 'w' byte size overflows");
    }

    @Test
    void negativeDimension() {
        RawGguf r = RawGguf.header(3, 1, 0).str("w").u32(2).i64(4);
        long at = r.pos();
        fails(r.i64(-4).u32(F32).i64(0).zeros(32).toArray(), at, "tensor 'w' has negative ne[1] = -4");
    }

    @Test
    void rowNotAMultipleOfTheBlockSize() {
        RawGguf r = RawGguf.header(3, 1, 0).str("q");
        long at = r.pos();
        fails(r.u32(1).i64(33).u32(GgmlType.Q8_0.id).i64(0).pad(32).zeros(68).toArray(), at,
                "ne[0] = 33 is not a multiple of Q8_0's block size 32");
    }

    @Test
    void tensorDataPastTheEndOfTheFile() {
        RawGguf r = RawGguf.header(3, 1, 0).str("w").u32(1).i64(1L << 40).u32(F32);
        long at = r.pos(); // the offset field: where the data starts
        fails(r.i64(0).pad(32).zeros(64).toArray(), at, "truncated file: tensor 'w' data", "runs past the end");
    }

    @Test
    void dataOffsetBeyondTheFile() {
        RawGguf r = RawGguf.header(3, 1, 0).str("w").u32(1).i64(8).u32(F32);
        long at = r.pos();
        fails(r.i64(-32).pad(32).zeros(32).toArray(), at, "data offset 18446744073709551584 lies beyond the end");
    }

    @Test
    void misalignedOffset() {
        RawGguf r = RawGguf.header(3, 2, 0).tensor("a", new long[] {3}, F32, 0).str("b").u32(1).i64(2).u32(F32);
        long at = r.pos();
        fails(r.i64(12).pad(32).zeros(64).toArray(), at, "tensor 'b' data offset 12 is not a multiple of the alignment 32");
    }

    @Test
    void nonConsecutiveOffsets() {
        RawGguf r = RawGguf.header(3, 2, 0).tensor("a", new long[] {3}, F32, 0).str("b").u32(1).i64(2).u32(F32);
        long at = r.pos();
        fails(r.i64(64).pad(32).zeros(128).toArray(), at, "tensor 'b' has offset 64, expected 32");
    }

    @Test
    void tensorsOutOfOrder() {
        RawGguf r = RawGguf.header(3, 2, 0).str("a").u32(1).i64(3).u32(F32);
        long at = r.pos();
        fails(r.i64(32).tensor("b", new long[] {2}, F32, 0).pad(32).zeros(64).toArray(), at,
                "tensor 'a' has offset 32, expected 0");
    }

    @Test
    void alignmentZero() {
        RawGguf r = RawGguf.header(3, 0, 1).str("general.alignment");
        long at = r.pos();
        fails(r.u32(U32).u32(0).toArray(), at + 4, "general.alignment 0 is not a non-zero power of two");
    }

    @Test
    void alignmentNotAPowerOfTwo() {
        RawGguf r = RawGguf.header(3, 0, 1).str("general.alignment");
        long at = r.pos();
        fails(r.u32(U32).u32(48).toArray(), at + 4, "general.alignment 48 is not a non-zero power of two");
    }

    @Test
    void alignmentOfTheWrongType() {
        RawGguf r = RawGguf.header(3, 0, 1).str("general.alignment");
        long at = r.pos();
        fails(r.u32(GgufValueType.INT32.ordinal()).u32(32).toArray(), at, "general.alignment must be UINT32, found INT32");
    }

    @Test
    void customAlignmentIsHonoured() throws GgufFormatException {
        RawGguf r = RawGguf.header(3, 2, 1).kvU32("general.alignment", 64);
        r.tensor("a", new long[] {3}, F32, 0).tensor("b", new long[] {2}, F32, 64).pad(64).zeros(72);
        GgufFile f = GgufFile.parse(MemorySegment.ofArray(r.toArray()));
        assertEquals(64, f.alignment());
        assertEquals(128, f.dataOffset());
        assertEquals(192, f.tensor("b").fileOffset());
    }

    @Test
    void duplicateTensorName() {
        RawGguf r = RawGguf.header(3, 2, 0).tensor("w", new long[] {3}, F32, 0);
        long at = r.pos();
        fails(r.tensor("w", new long[] {2}, F32, 32).pad(32).zeros(64).toArray(), at, "duplicate tensor name 'w'");
    }

    @Test
    void tensorNameOfSixtyFourBytes() {
        RawGguf r = RawGguf.header(3, 1, 0);
        long at = r.pos();
        fails(r.tensor("n".repeat(64), new long[] {1}, F32, 0).pad(32).zeros(32).toArray(), at, "name of tensor #0 is 64 bytes long",
                "the limit is 63");
    }

    @Test
    void tensorNameOfSixtyThreeBytesIsAccepted() throws GgufFormatException {
        byte[] file = RawGguf.header(3, 1, 0).tensor("n".repeat(63), new long[] {1}, F32, 0).pad(32).zeros(32).toArray();
        assertEquals(63, GgufFile.parse(MemorySegment.ofArray(file)).tensors().getFirst().name().length());
    }

    @Test
    void zeroDimensionalTensorIsAScalarAsInLlamaCpp() throws GgufFormatException {
        byte[] file = RawGguf.header(3, 1, 0).tensor("s", new long[] {}, F32, 0).pad(32).zeros(32).toArray();
        GgufTensorInfo t = GgufFile.parse(MemorySegment.ofArray(file)).tensor("s");
        assertEquals(1, t.elementCount());
        assertEquals(4, t.byteSize());
    }

    @Test
    void errorsFromOpenNameTheFile() throws IOException {
        byte[] file = valid();
        file[4] = 9;
        Path p = tmp.resolve("bad-version.gguf");
        Files.write(p, file);
        try (GgufFile f = GgufFile.open(p)) {
            fail("opened " + f);
        } catch (GgufFormatException e) {
            assertEquals("bad-version.gguf: unsupported GGUF version 9, expected 2 or 3 (at file offset 4)", e.getMessage());
            assertEquals(4, e.offset());
        }
    }
}
