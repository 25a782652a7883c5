package org.jgemma.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jgemma.chat.ChatMessage;
import org.jgemma.testing.Fixtures;
import org.jgemma.testing.SessionChecks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Sessions on one model (reference backend, tiny fixture): memory, threads, cancel, context policy, close. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SessionsTest {
    private static final String TINY = "tiny/gemma3-tiny-f32.gguf";

    private static Model open(int ctx, int batch) throws Exception {
        return Model.open(Fixtures.file(TINY), ModelOptions.defaults().withBackend("reference").withContextSize(ctx).withBatchSize(batch));
    }

    private static GenerationOptions greedy(int n) {
        return GenerationOptions.greedy(n).withStopOnEog(false);
    }

    @Test
    void thousandSessionsAndGenerateCallsGiveBackAllTheirMemory() throws Exception {
        SessionChecks.lifecycle("reference", TINY, 1000);
    }

    @Test
    void concurrentSessionsAreBatchedAndGetTheTokensTheyGetAlone() throws Exception {
        SessionChecks.batchedEqualsAlone("reference", TINY, 4, 10);
    }

    // ---- cancel -------------------------------------------------------------------------------------------

    @Test
    void cancelBeforeTheRequestStartsIsNotLost() throws Exception {
        try (Model m = open(64, 8); Session s = m.newSession()) {
            s.cancel();
            GenerationResult r = s.generate(new int[] {2, 105, 236}, greedy(20), TokenListener.NONE);
            assertEquals(StopReason.CANCELLED, r.stopReason());
            assertEquals(0, r.promptTokens());
            assertEquals(0, r.tokens().length);
            // the cancel was used up: the next request runs
            GenerationResult next = s.generate(new int[] {2, 105, 236}, greedy(3), TokenListener.NONE);
            assertEquals(StopReason.MAX_TOKENS, next.stopReason());
        }
    }

    @Test
    void cancelBetweenPromptChunksEndsThePromptEvaluation() throws Exception {
        try (Model m = open(64, 8); Session s = m.newSession()) {
            int[] prompt = new int[40];
            for (int i = 0; i < prompt.length; i++) prompt[i] = 100 + i;
            List<Integer> progress = new ArrayList<>();
            GenerationOptions o = greedy(20).withPromptProgress((done, total) -> {
                progress.add(done);
                if (done == 16) s.cancel();
            });
            GenerationResult r = s.generate(prompt, o, TokenListener.NONE);
            assertEquals(StopReason.CANCELLED, r.stopReason());
            assertEquals(List.of(8, 16), progress);
            assertEquals(16, r.promptTokens());
            assertEquals(16, s.evaluated());
            assertEquals(0, r.tokens().length);
        }
    }

    @Test
    void cancelFromAnotherThreadDuringAPromptEndsItPromptly() throws Exception {
        try (Model m = open(512, 8); Session s = m.newSession()) {
            int[] prompt = new int[500];
            for (int i = 0; i < prompt.length; i++) prompt[i] = 100 + i % 200;
            CountDownLatch firstChunk = new CountDownLatch(1);
            GenerationOptions o = greedy(20).withPromptProgress((done, total) -> firstChunk.countDown());
            ExecutorService ex = Executors.newSingleThreadExecutor();
            try {
                Future<GenerationResult> f = ex.submit(() -> s.generate(prompt, o, TokenListener.NONE));
                assertTrue(firstChunk.await(60, TimeUnit.SECONDS));
                s.cancel();
                GenerationResult r = f.get(60, TimeUnit.SECONDS);
                assertEquals(StopReason.CANCELLED, r.stopReason());
                assertTrue(r.promptTokens() < prompt.length, "stopped after " + r.promptTokens() + " of " + prompt.length);
            } finally {
                ex.shutdownNow();
            }
        }
    }

    @Test
    void cancelDuringGenerationEndsBeforeTheNextToken() throws Exception {
        try (Model m = open(64, 8); Session s = m.newSession()) {
            int[] count = {0};
            GenerationResult r = s.generate(new int[] {2, 105}, greedy(30), (id, text) -> {
                if (++count[0] == 3) s.cancel();
            });
            assertEquals(StopReason.CANCELLED, r.stopReason());
            assertEquals(3, r.tokens().length);
            assertEquals(StopReason.MAX_TOKENS, s.generate(new int[0], greedy(2), TokenListener.NONE).stopReason());
        }
    }

    // ---- context policy -----------------------------------------------------------------------------------

    @Test
    void aChatOfTenTurnsInAContextOf64DropsTheOldestTurnsAndKeepsTheSystemPrompt() throws Exception {
        try (Model m = open(64, 16); ChatSession chat = m.newChat("Be terse.")) {
            int[] system = m.codec().encodeChat(List.of(ChatMessage.system("Be terse."), ChatMessage.user("x")), false, false);
            for (int turn = 0; turn < 10; turn++) {
                GenerationResult r = chat.send("Turn number " + turn + " of ten, please answer.", greedy(8), TokenListener.NONE);
                assertTrue(r.stopReason() == StopReason.MAX_TOKENS || r.stopReason() == StopReason.END_OF_GENERATION, r.stopReason().toString());
                assertTrue(chat.session().position() <= 64);
                assertEquals("system", chat.history().getFirst().role());
                assertEquals(ChatMessage.user("Turn number " + turn + " of ten, please answer."), chat.history().get(chat.history().size() - 2));
                // the context starts with the system prompt's tokens, as rendered
                int[] ctx = chat.session().history();
                int prefix = 0;
                while (prefix < ctx.length && ctx[prefix] == system[prefix]) prefix++;
                assertTrue(prefix >= 8, "the system prompt leads the context (" + prefix + " tokens in common)");
            }
            assertTrue(chat.droppedMessages() >= 8, "dropped " + chat.droppedMessages());
            assertEquals(0, (chat.history().size() - 1) % 2); // system + whole (user, assistant) turns
        }
    }

    @Test
    void aLongReplyThatFillsTheContextDropsTurnsAndGoesOn() throws Exception {
        try (Model m = open(64, 16); ChatSession chat = m.newChat("Be terse.")) {
            chat.send("First question here.", greedy(8), TokenListener.NONE);
            GenerationResult r = chat.send("Second.", greedy(0), TokenListener.NONE); // until the context is full
            assertEquals(StopReason.CONTEXT_FULL, r.stopReason());
            assertTrue(chat.droppedMessages() >= 2, "dropped " + chat.droppedMessages());
            assertTrue(r.tokens().length > 64 - 40, "the reply went on after dropping: " + r.tokens().length + " tokens");
        }
    }

    @Test
    void policyFailThrowsAndTheChatStaysUsable() throws Exception {
        try (Model m = open(64, 16); ChatSession chat = m.newChat("Be terse.")) {
            GenerationOptions fail = greedy(8).withContextPolicy(ContextPolicy.FAIL);
            String longMessage = "word ".repeat(80);
            ContextOverflowException e = assertThrows(ContextOverflowException.class, () -> chat.send(longMessage, fail, TokenListener.NONE));
            assertTrue(e.getMessage().contains("context holds 64"), e.getMessage());
            assertInstanceOf(JGemmaException.class, e);
            assertEquals(1, chat.history().size()); // the failed message did not join the history
            GenerationResult r = chat.send("Hi", fail, TokenListener.NONE); // no "roles must alternate"
            assertEquals(8, r.tokens().length);
            assertEquals(3, chat.history().size());
        }
    }

    // ---- chats from a message list --------------------------------------------------------------------------

    @Test
    void aChatFromAMessageListReusesTheCachedPrefix() throws Exception {
        try (Model m = open(256, 64); ChatSession chat = m.continueChat(List.of(ChatMessage.system("Sys")))) {
            List<ChatMessage> conv = new ArrayList<>(List.of(ChatMessage.system("Sys"), ChatMessage.user("Hello there")));
            GenerationResult first = chat.send(conv, greedy(4), TokenListener.NONE);
            conv.add(ChatMessage.assistant(first.text()));
            conv.add(ChatMessage.user("And again"));
            int[] full = m.codec().encodeChat(conv, true, false);
            int reusable = chat.reusablePrefix(conv);
            assertTrue(reusable > full.length / 2, reusable + " of " + full.length);
            GenerationResult second = chat.send(conv, greedy(4), TokenListener.NONE);
            assertEquals(full.length - reusable, second.promptTokens());
            // the same conversation from scratch gives the same reply
            try (ChatSession fresh = m.continueChat(List.of())) {
                assertArrayEquals(second.tokens(), fresh.send(conv, greedy(4), TokenListener.NONE).tokens());
            }
            assertThrows(IllegalArgumentException.class, () -> chat.send(List.of(ChatMessage.system("x")), greedy(1), TokenListener.NONE));
        }
    }

    // ---- threads and close ----------------------------------------------------------------------------------

    @Test
    void sessionsAreMadeAndUsedFromManyThreads() throws Exception {
        try (Model m = open(128, 32)) {
            long base = m.allocatedBytes();
            ExecutorService ex = Executors.newFixedThreadPool(6);
            try {
                List<Future<int[]>> fs = new ArrayList<>();
                for (int t = 0; t < 24; t++) {
                    int seed = t;
                    fs.add(ex.submit(() -> {
                        try (ChatSession c = m.newChat("S" + seed)) {
                            return c.send("Hi " + (seed % 3), greedy(5), TokenListener.NONE).tokens();
                        }
                    }));
                }
                for (int t = 0; t < 24; t++) assertEquals(5, fs.get(t).get(120, TimeUnit.SECONDS).length);
            } finally {
                ex.shutdownNow();
            }
            assertEquals(base, m.allocatedBytes());
        }
    }

    @Test
    void closingTheModelWhileAnotherThreadGeneratesEndsItWithAClearException() throws Exception {
        SessionChecks.closeWhileGenerating("reference", TINY, 6);
    }

    @Test
    void aModelNeverClosedIsCleanedWhenUnreachable() throws Exception {
        int before = Model.CLEANED.get();
        openAndDrop();
        for (int i = 0; i < 100 && Model.CLEANED.get() == before; i++) {
            System.gc();
            Thread.sleep(50);
        }
        assertTrue(Model.CLEANED.get() > before, "the Cleaner closed the unreachable model");
    }

    private static void openAndDrop() throws Exception {
        Model m = open(64, 8);
        try (Session s = m.newSession()) {
            s.generate(new int[] {2, 105}, greedy(2), TokenListener.NONE);
        }
    }
}
