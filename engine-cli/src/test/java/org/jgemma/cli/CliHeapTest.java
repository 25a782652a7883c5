package org.jgemma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.jgemma.gguf.GgufValue;
import org.jgemma.testing.Fixtures;
import org.jgemma.testing.ForkedJvm;
import org.jgemma.testing.HostileModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end in a JVM with {@code -Xmx256m}: a context whose KV cache cannot fit the heap is refused by the CPU
 * backend's checkFits before anything is allocated, as one line with the numbers and what to try (a raw
 * OutOfMemoryError before: the 270M model at --ctx-size 32768 needs 303 MiB more per session). The model is the tiny
 * fixture declaring a 2^20-token context: its global layer's K and V need 2^20 x 64 x 2 x 4 bytes = 512 MiB.
 */
class CliHeapTest {
    @TempDir
    Path tmp;

    @Test
    void aKvCacheLargerThanTheHeapIsOneLineWithTheNumbers() throws Exception {
        Path p = HostileModels.write(Fixtures.file("tiny/gemma3-tiny-f32.gguf"), tmp.resolve("long.gguf"),
                w -> w.put("gemma3.context_length", GgufValue.ofUInt32(1 << 20)));
        ForkedJvm.Result r = ForkedJvm.run(List.of("-Xmx256m"), Main.class, "run", p.toString(), "hello", "-n", "2",
                "--backend", "cpu", "--ctx-size", Integer.toString(1 << 20), "--temperature", "0");
        assertEquals(1, r.code(), r.toString());
        assertEquals("", r.out(), r.toString());
        assertEquals(1, r.err().lines().filter(l -> !l.startsWith("WARNING: Using incubator modules")).count(), r.toString());
        assertFalse(r.err().contains("OutOfMemoryError") || r.err().contains("out of memory"), r.toString());
        // the numbers (KV cache 512 MiB for the global layer + 1.3 for the five sliding-window ones, a 256 MiB heap)
        assertTrue(r.err().matches("(?s).*KV cache 51[23]\\.\\d MiB.*") && r.err().contains("maximum heap of 256.0 MiB"), r.toString());
        assertTrue(r.err().contains("smaller context (--ctx-size") && r.err().contains("-Xmx"), r.toString());
    }

    /**
     * A cache that passes checkFits (one session against the whole heap) but not the heap the process already uses: the
     * real 270M at --ctx-size 32768 in 256 MiB (222 MiB of cache); here the tiny model at 510,000 tokens (249 MiB of
     * cache + 4 MiB of activations, under 256 MiB). The failed allocation is one line naming the layer and the heap.
     */
    @Test
    void aKvCacheThatPassesTheCheckButNotTheHeapInUseIsOneLine() throws Exception {
        int ctx = 510_000;
        Path p = HostileModels.write(Fixtures.file("tiny/gemma3-tiny-f32.gguf"), tmp.resolve("long.gguf"),
                w -> w.put("gemma3.context_length", GgufValue.ofUInt32(ctx)));
        ForkedJvm.Result r = ForkedJvm.run(List.of("-Xmx256m"), Main.class, "run", p.toString(), "hello", "-n", "2",
                "--backend", "cpu", "--ctx-size", Integer.toString(ctx), "--temperature", "0");
        assertEquals(1, r.code(), r.toString());
        assertEquals("", r.out(), r.toString());
        assertEquals(1, r.err().lines().filter(l -> !l.startsWith("WARNING: Using incubator modules")).count(), r.toString());
        assertFalse(r.err().contains("OutOfMemoryError") || r.err().contains("out of memory"), r.toString());
        assertTrue(r.err().contains("cpu: the KV cache does not fit the Java heap: kv.5 (510000 x 64 x 2 floats, 249.0 MiB)")
                && r.err().contains("of the JVM's maximum heap of 256.0 MiB in use"), r.toString());
        assertTrue(r.err().contains("smaller context (--ctx-size") && r.err().contains("-Xmx"), r.toString());
    }
}
