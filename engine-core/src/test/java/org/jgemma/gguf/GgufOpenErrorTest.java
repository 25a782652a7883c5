package org.jgemma.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jgemma.testing.ForkedJvm;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An {@link Error} escaping {@link GgufFile#open} after the file was mapped must not leave the mapping behind (three
 * OutOfMemoryErrors once left 744 MB mapped). A real OutOfMemoryError, in a 32 MiB JVM parsing metadata that needs
 * about 120 MiB of heap (under the parser's 128 MiB limit, so the parser does not refuse it first); the mappings and
 * descriptors are read from /proc/self.
 */
class GgufOpenErrorTest {
    @TempDir
    Path tmp;

    @Test
    void anOutOfMemoryErrorWhileParsingReleasesTheMapping() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/self/maps")), "needs /proc/self/maps (Linux) to see the mappings");
        Path big = Files.write(tmp.resolve("big.gguf"), GgufMetadataMemoryTest.tinyStrings(2_000_000)); // 18 MB
        Path small = Files.copy(Fixtures.file("tiny/gemma3-tiny-f32.gguf"), tmp.resolve("small.gguf"));
        ForkedJvm.Result r = ForkedJvm.run(List.of("-Xmx32m"), GgufOpenErrorProbe.class, big.toString(), small.toString(), "3");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("control open: mappings 1, fds 0, mapped true"), r.toString()); // the check sees a mapping
        assertTrue(r.out().contains("control closed: mappings 0, fds 0"), r.toString());
        assertTrue(r.out().contains("errors 3 of 3: mappings 0, fds 0"), r.toString());
    }
}
