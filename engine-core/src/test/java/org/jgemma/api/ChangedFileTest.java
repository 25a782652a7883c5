package org.jgemma.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model file truncated while open: a mapped model refuses the next request (reading the lost pages crashed the JVM
 * with SIGBUS in compiled CPU kernels), and so does a request running when it changes, at its next prompt chunk or
 * token; a model opened with {@code withMmap(false)} holds its own copy and goes on.
 */
class ChangedFileTest {
    @TempDir
    Path tmp;

    private static int[] generate(Model m) {
        try (Session s = m.newSession()) {
            return s.generate(new int[] {2, 10, 20, 30}, GenerationOptions.greedy(4), TokenListener.NONE).tokens();
        }
    }

    private static void truncate(Path p) throws Exception {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() / 2);
        }
    }

    @Test
    void mappedModelRefusesRequestsOnceTheFileShrinks() throws Exception {
        Path p = Files.copy(Fixtures.file("tiny/gemma3-tiny-f32.gguf"), tmp.resolve("m.gguf"));
        try (Model m = Model.open(p, ModelOptions.defaults().withBackend("reference").withContextSize(32))) {
            generate(m);
            truncate(p);
            JGemmaException e = assertThrows(JGemmaException.class, () -> generate(m));
            assertTrue(e.getMessage().contains("changed on disk") && e.getMessage().contains("withMmap(false)"), e.getMessage());
        }
    }

    /** Truncated between two generated tokens: the next token is refused (checked at most every 10 ms, so wait 25). */
    @Test
    void aFileChangedDuringAReplyStopsItAtTheNextToken() throws Exception {
        Path p = Files.copy(Fixtures.file("tiny/gemma3-tiny-f32.gguf"), tmp.resolve("m.gguf"));
        try (Model m = Model.open(p, ModelOptions.defaults().withBackend("reference").withContextSize(64));
             Session s = m.newSession()) {
            Generation g = s.start(new int[] {2, 10, 20, 30}, GenerationOptions.greedy(40).withStopOnEog(false));
            g.step();
            g.step();
            truncate(p);
            Thread.sleep(25);
            JGemmaException e = assertThrows(JGemmaException.class, () -> {
                while (g.step() != null) { } // without the check: an InternalError (or SIGBUS) reading the lost pages
            });
            assertTrue(e.getMessage().contains("changed on disk") && e.getMessage().contains("--no-mmap"), e.getMessage());
        }
    }

    /** Truncated between two chunks of a long prompt: the next chunk is refused. */
    @Test
    void aFileChangedDuringAPromptStopsItAtTheNextChunk() throws Exception {
        Path p = Files.copy(Fixtures.file("tiny/gemma3-tiny-f32.gguf"), tmp.resolve("m.gguf"));
        try (Model m = Model.open(p, ModelOptions.defaults().withBackend("reference").withContextSize(64).withBatchSize(4));
             Session s = m.newSession()) {
            int[] prompt = new int[24];
            for (int i = 0; i < prompt.length; i++) prompt[i] = 2 + i;
            int[] chunks = {0};
            GenerationOptions o = GenerationOptions.greedy(2).withPromptProgress((done, total) -> {
                if (++chunks[0] == 1) {
                    try {
                        truncate(p);
                        Thread.sleep(25);
                    } catch (Exception x) {
                        throw new AssertionError(x);
                    }
                }
            });
            JGemmaException e = assertThrows(JGemmaException.class, () -> s.start(prompt, o));
            assertTrue(e.getMessage().contains("changed on disk"), e.getMessage());
            assertEquals(1, chunks[0], "chunks evaluated before the refusal");
        }
    }

    @Test
    void modelInMemorySurvivesTheFileShrinking() throws Exception {
        Path p = Files.copy(Fixtures.file("tiny/gemma3-tiny-f32.gguf"), tmp.resolve("m.gguf"));
        try (Model m = Model.open(p, ModelOptions.defaults().withBackend("reference").withContextSize(32).withMmap(false))) {
            int[] before = generate(m);
            truncate(p);
            Files.delete(p);
            assertFalse(Files.exists(p));
            assertArrayEquals(before, generate(m));
        }
    }
}
