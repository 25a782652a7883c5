package org.jgemma.gguf;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * Parsed metadata costs more heap than its bytes in the file (a 254 MB file of tiny entries needed over 512 MB): the
 * parser estimates the heap as it goes and refuses a file past {@link GgufParser#MAX_METADATA_HEAP}.
 */
class GgufMetadataMemoryTest {
    /** One key holding a string array of {@code n} one-byte strings: 9 file bytes, about 60 heap bytes each. */
    static byte[] tinyStrings(int n) {
        String key = "tokenizer.ggml.tokens";
        ByteBuffer b = ByteBuffer.allocate(4 + 4 + 8 + 8 + 8 + key.length() + 4 + 4 + 8 + 9 * n).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(GgufParser.MAGIC).putInt(3).putLong(0).putLong(1);
        b.putLong(key.length()).put(key.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        b.putInt(GgufValueType.ARRAY.ordinal()).putInt(GgufValueType.STRING.ordinal()).putLong(n);
        for (int i = 0; i < n; i++) b.putLong(1).put((byte) 'a');
        return b.array();
    }

    @Test
    void manyTinyEntriesAreRefusedBeforeTheyExhaustTheHeap() {
        byte[] file = tinyStrings(2_500_000); // 22 MB of file, about 150 MB of Strings
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.parse(MemorySegment.ofArray(file)));
        assertTrue(e.getMessage().contains("128 MiB") && e.getMessage().contains("tokenizer.ggml.tokens"), e.getMessage());
    }

    @Test
    void aRealSizedVocabularyParses() throws GgufFormatException {
        GgufFile f = GgufFile.parse(MemorySegment.ofArray(tinyStrings(262_144)));
        assertTrue(f.getStringArray("tokenizer.ggml.tokens").length == 262_144);
    }
}
