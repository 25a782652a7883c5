package org.jgemma.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.jgemma.chat.ChatMessage;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The public API on the tiny fixture model (reference backend) against llama.cpp's greedy tokens. */
class ApiFixtureTest {
    private static Model model;
    private static Fixtures.Reference ref;

    @BeforeAll
    static void open() throws Exception {
        model = Model.open(Fixtures.file("tiny/gemma3-tiny-f32.gguf"), ModelOptions.defaults().withBackend("reference").withContextSize(64));
        ref = Fixtures.reference("tiny", "expected", "f32");
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static GenerationOptions greedy(int n) {
        return GenerationOptions.greedy(n).withStopOnEog(false);
    }

    @Test
    void greedyGenerationReproducesLlamaCpp() {
        try (Session s = model.newSession()) {
            List<Integer> seen = new ArrayList<>();
            GenerationResult r = s.generate(ref.prompt(), greedy(ref.nGen()), (id, text) -> seen.add(id));
            assertArrayEquals(ref.generated(), r.tokens());
            assertEquals(Arrays.stream(ref.generated()).boxed().toList(), seen);
            assertEquals(StopReason.MAX_TOKENS, r.stopReason());
            assertEquals(ref.nPrompt(), r.promptTokens());
            assertEquals(model.detokenize(ref.generated()), r.text());
        }
    }

    @Test
    void continuingASessionEvaluatesOnlyTheNewTokens() {
        try (Session s = model.newSession()) {
            GenerationResult a = s.generate(ref.prompt(), greedy(3), TokenListener.NONE);
            assertEquals(ref.nPrompt() + 2, s.evaluated()); // the third token is sampled, not yet evaluated
            GenerationResult b = s.generate(new int[0], greedy(ref.nGen() - 3), TokenListener.NONE);
            assertEquals(1, b.promptTokens()); // just the pending token
            int[] all = new int[ref.nGen()];
            System.arraycopy(a.tokens(), 0, all, 0, 3);
            System.arraycopy(b.tokens(), 0, all, 3, ref.nGen() - 3);
            assertArrayEquals(ref.generated(), all);
        }
    }

    @Test
    void iteratorAndStreamGiveTheSameText() {
        String expected;
        try (Session s = model.newSession()) {
            expected = s.generate(ref.prompt(), greedy(ref.nGen()), TokenListener.NONE).text();
        }
        try (Session s = model.newSession(); Generation g = s.start(ref.prompt(), greedy(ref.nGen()))) {
            StringBuilder sb = new StringBuilder();
            g.forEachRemaining(sb::append);
            assertEquals(expected, sb.toString());
            assertArrayEquals(ref.generated(), g.result().tokens());
        }
        String prompt = model.detokenize(ref.prompt());
        try (Session s = model.newSession(); var stream = s.stream(prompt, greedy(4))) {
            String text = stream.collect(Collectors.joining());
            assertTrue(text.length() <= expected.length() + 64);
        }
    }

    @Test
    void seededSamplingRepeats() {
        GenerationOptions o = GenerationOptions.defaults().withMaxTokens(12).withStopOnEog(false).withSeed(1234);
        GenerationResult a = model.generate("", o, TokenListener.NONE);
        GenerationResult b = model.generate("", o, TokenListener.NONE);
        assertArrayEquals(a.tokens(), b.tokens());
    }

    @Test
    void cancelStopsBeforeTheNextToken() {
        try (Session s = model.newSession()) {
            int[] count = {0};
            GenerationResult r = s.generate(ref.prompt(), greedy(8), (id, text) -> {
                if (++count[0] == 2) s.cancel();
            });
            assertEquals(StopReason.CANCELLED, r.stopReason());
            assertEquals(2, r.tokens().length);
        }
    }

    @Test
    void chatUsesTheGgufTemplate() {
        // gemma-3's chat template output for this conversation, written out by hand from the template text
        String expected = "<bos><start_of_turn>user\nSys\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n"
                + "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n";
        int[] ids = model.codec().encodeChat(List.of(ChatMessage.system("Sys"), ChatMessage.user("Hi"),
                ChatMessage.assistant(" Hello!\n"), ChatMessage.user("Bye")), true, false);
        assertArrayEquals(model.tokenize(expected, false, true), ids);
    }

    @Test
    void chatReusesTheCacheAcrossTurns() {
        GenerationOptions o = GenerationOptions.greedy(5);
        try (ChatSession chat = model.newChat("Be brief.")) {
            GenerationResult first = chat.send("Hi", o, TokenListener.NONE);
            String firstText = "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n";
            int[] firstIds = model.tokenize(firstText, false, true);
            assertEquals(firstIds.length, first.promptTokens());
            int[] before = chat.session().history(); // prompt + reply (its last token pending)
            GenerationResult second = chat.send("More", o, TokenListener.NONE);
            assertEquals(5, chat.history().size()); // system, user, assistant, user, assistant
            // the context now is the whole conversation as the template renders it, then the second reply
            int[] conversation = model.codec().encodeChat(chat.history().subList(0, 4), true, false);
            int[] history = chat.session().history();
            assertArrayEquals(conversation, Arrays.copyOf(history, conversation.length));
            // only what differs from the previous context was evaluated
            int common = 0;
            while (common < before.length && before[common] == conversation[common]) common++;
            assertTrue(common >= firstIds.length, "the first prompt is reused: common prefix " + common);
            int evaluatedBefore = common == before.length ? before.length - 1 : common; // the pending token goes in again
            assertEquals(conversation.length - evaluatedBefore, second.promptTokens());
            // the same tokens evaluated from scratch give the same reply
            try (Session fresh = model.newSession()) {
                assertArrayEquals(second.tokens(), fresh.generate(conversation, o, TokenListener.NONE).tokens());
            }
        }
    }

    @Test
    void specialTokenTextInAUserMessageDoesNotEndTheTurn() {
        int eot = model.tokenizer().tokenId("<end_of_turn>");
        assertEquals(106, eot);
        String user = "Hi <end_of_turn> there";
        try (ChatSession chat = model.newChat()) {
            GenerationResult r = chat.send(user, GenerationOptions.greedy(2).withStopOnEog(false), TokenListener.NONE);
            int[] prompt = Arrays.copyOf(chat.session().history(), r.promptTokens());
            assertEquals(1, count(prompt, eot), "only the template's own end of turn: " + Arrays.toString(prompt));
            int[] expected = model.tokenize("<bos><start_of_turn>user\n", false, true);
            int[] content = model.tokenize(user, false, false);
            assertArrayEquals(expected, Arrays.copyOf(prompt, expected.length));
            assertArrayEquals(content, Arrays.copyOfRange(prompt, expected.length, expected.length + content.length));
        }
        try (ChatSession chat = model.newChat(null, true)) { // opt-in: parsed, as llama.cpp's server does
            GenerationResult r = chat.send(user, GenerationOptions.greedy(2).withStopOnEog(false), TokenListener.NONE);
            int[] prompt = Arrays.copyOf(chat.session().history(), r.promptTokens());
            assertEquals(2, count(prompt, eot), Arrays.toString(prompt));
        }
    }

    @Test
    void aContextThatDivergesIsRewoundToTheFirstDifference() {
        try (Session s = model.newSession()) {
            s.generate(ref.prompt(), greedy(3), TokenListener.NONE);
            int[] other = Arrays.copyOf(ref.prompt(), ref.prompt().length);
            int p = other.length - 5;
            other[p] = (other[p] + 1) % model.vocabSize();
            int[] rest = s.keepCommonPrefix(other);
            assertEquals(5, rest.length);
            assertEquals(p, s.evaluated());
            GenerationResult a = s.generate(rest, greedy(4), TokenListener.NONE);
            assertEquals(5, a.promptTokens());
            try (Session fresh = model.newSession()) {
                assertArrayEquals(fresh.generate(other, greedy(4), TokenListener.NONE).tokens(), a.tokens());
            }
        }
    }

    @Test
    void theGenerationLoopAllocatesNothingVocabularySized() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        for (GenerationOptions o : List.of(greedy(58), GenerationOptions.defaults().withMaxTokens(58).withStopOnEog(false).withSeed(7))) {
            try (Session s = model.newSession(); Generation g = s.start(new int[] {model.bosToken()}, o)) {
                for (int i = 0; i < 8; i++) g.step(); // warm up
                long before = mx.getThreadAllocatedBytes(tid);
                for (int i = 0; i < 50; i++) g.step();
                long allocated = mx.getThreadAllocatedBytes(tid) - before;
                // a [vocab] float array per step would be 50 x 4 KiB; what remains is the text pieces (a few short strings)
                assertTrue(allocated < 24 * 1024, "50 steps allocated " + allocated + " bytes");
            }
        }
    }

    private static int count(int[] ids, int id) {
        int n = 0;
        for (int x : ids) if (x == id) n++;
        return n;
    }

    @Test
    void promptLongerThanTheContextIsRefused() {
        try (Session s = model.newSession()) {
            ContextOverflowException e = assertThrows(ContextOverflowException.class, () -> s.generate(new int[65], greedy(1), TokenListener.NONE));
            assertTrue(e.getMessage().contains("65 tokens"), e.getMessage());
        }
    }
}
