package org.jgemma.gguf;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A seeded mutation fuzzer over {@link GgufFile#parse}: valid seed files (written by gguf-py and by RawGguf) are
 * mutated with GGUF-aware edits (counts and lengths set to boundary values, type ids changed, truncation, byte
 * flips, splices) and every result must either parse or fail with a {@link GgufFormatException}.
 * <p>It complements {@link GgufFuzzTest}: Jazzer 0.24.0 cannot instrument Java 25 class files (its ASM stops at
 * class file version 68), so its coverage-guided mode is blind here and a plain test run only replays its seeds.
 * Deterministic (fixed seed); {@code -Djgemma.fuzz.iterations=N} runs longer. A failing input is written to
 * {@code target/gguf-fuzz-failure.gguf}.
 */
class GgufMutationFuzzTest {
    static final long SEED = 0x6767756646757A7AL;
    static final long[] INTERESTING = {0, 1, 2, 3, 4, 7, 8, 9, 12, 13, 31, 32, 33, 63, 64, 255, 256, 0x7FFF, 0xFFFF, 0x10000,
            Integer.MAX_VALUE, 0xFFFFFFFFL, 1L << 32, Long.MAX_VALUE, Long.MIN_VALUE, -1, -2, -32, 1L << 40, 1L << 62};

    static List<byte[]> seeds() throws IOException {
        List<byte[]> s = new ArrayList<>();
        s.add(GgufWriterTest.resource("all-types.gguf"));
        s.add(GgufWriterTest.resource("align64.gguf"));
        s.add(GgufHostileFileTest.valid());
        return s;
    }

    @Test
    void mutatedFilesParseOrFailWithAFormatException() throws IOException {
        int iterations = Integer.getInteger("jgemma.fuzz.iterations", 20_000);
        SplittableRandom rnd = new SplittableRandom(SEED);
        List<byte[]> seeds = seeds();
        int parsed = 0;
        int rejected = 0;
        for (int it = 0; it < iterations; it++) {
            byte[] input = seeds.get(rnd.nextInt(seeds.size()));
            int edits = 1 + rnd.nextInt(4);
            for (int e = 0; e < edits; e++) input = mutate(input, rnd);
            try {
                GgufFile f = GgufFile.parse(MemorySegment.ofArray(input));
                f.metadata().values().forEach(v -> v.render(4));
                for (GgufTensorInfo t : f.tensors()) {
                    if (t.data().byteSize() != t.byteSize()) throw new AssertionError("view size of " + t.name());
                    t.rowCount();
                }
                parsed++;
            } catch (GgufFormatException expected) {
                rejected++;
            } catch (Throwable t) {
                Path out = Path.of("target", "gguf-fuzz-failure.gguf");
                Files.createDirectories(out.getParent());
                Files.write(out, input);
                String head = HexFormat.of().formatHex(input, 0, Math.min(input.length, 256));
                throw new AssertionError("iteration " + it + ": " + t + " on a " + input.length + "-byte input (saved to "
                        + out.toAbsolutePath() + "), first bytes " + head, t);
            }
        }
        // the mutations must exercise both outcomes, else the fuzzer tests nothing
        assertTrue(parsed > iterations / 100, "only " + parsed + " mutants parsed");
        assertTrue(rejected > iterations / 2, "only " + rejected + " mutants were rejected");
    }

    static byte[] mutate(byte[] in, SplittableRandom rnd) {
        if (in.length == 0) return new byte[] {'G'};
        int at = rnd.nextInt(in.length);
        switch (rnd.nextInt(8)) {
            case 0 -> { // a boundary value over a 64-bit field (counts, lengths, dims, offsets)
                byte[] b = in.clone();
                if (at + 8 <= b.length) ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(at, pick(rnd));
                return b;
            }
            case 1 -> { // a boundary value over a 32-bit field (version, types, n_dims)
                byte[] b = in.clone();
                if (at + 4 <= b.length) ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, (int) pick(rnd));
                return b;
            }
            case 2 -> { // a small number where a type id probably is
                byte[] b = in.clone();
                b[at] = (byte) rnd.nextInt(-2, 45);
                return b;
            }
            case 3 -> { // truncate
                return Arrays.copyOf(in, at);
            }
            case 4 -> { // flip bits
                byte[] b = in.clone();
                b[at] ^= (byte) (1 << rnd.nextInt(8));
                return b;
            }
            case 5 -> { // delete a run
                int n = Math.min(in.length - at, 1 + rnd.nextInt(16));
                byte[] b = new byte[in.length - n];
                System.arraycopy(in, 0, b, 0, at);
                System.arraycopy(in, at + n, b, at, in.length - at - n);
                return b;
            }
            case 6 -> { // duplicate a run (repeated keys, repeated tensor infos)
                int n = Math.min(in.length - at, 1 + rnd.nextInt(64));
                int to = rnd.nextInt(in.length + 1);
                byte[] b = new byte[in.length + n];
                System.arraycopy(in, 0, b, 0, to);
                System.arraycopy(in, at, b, to, n);
                System.arraycopy(in, to, b, to + n, in.length - to);
                return b;
            }
            default -> { // random bytes
                byte[] b = in.clone();
                int n = Math.min(b.length - at, 1 + rnd.nextInt(8));
                for (int i = 0; i < n; i++) b[at + i] = (byte) rnd.nextInt(256);
                return b;
            }
        }
    }

    private static long pick(SplittableRandom rnd) {
        return rnd.nextInt(4) == 0 ? rnd.nextLong() : INTERESTING[rnd.nextInt(INTERESTING.length)];
    }
}
