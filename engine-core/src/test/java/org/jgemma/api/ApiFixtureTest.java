package org.jgemma.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
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
    void chatReusesTheCacheAcrossTurns() {
        GenerationOptions o = GenerationOptions.greedy(5);
        try (ChatSession chat = model.newChat("Be brief.")) {
            GenerationResult first = chat.send("Hi", o, TokenListener.NONE);
            int afterFirst = chat.session().position();
            String firstText = GemmaChatFormat.render(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi")), true);
            assertEquals(model.tokenize(firstText, false, true).length, first.promptTokens());
            GenerationResult second = chat.send("More", o, TokenListener.NONE);
            // only the new turn: the pending last token, an end of turn if the reply did not end with one, the new user turn
            String delta = "\n<start_of_turn>user\nMore<end_of_turn>\n<start_of_turn>model\n";
            boolean endedWithEog = first.stopReason() == StopReason.END_OF_GENERATION;
            int expected = 1 + (endedWithEog ? 0 : 1) + model.tokenize(delta, false, true).length;
            assertEquals(expected, second.promptTokens());
            assertEquals(afterFirst - 1 + expected + second.tokens().length - 1, chat.session().evaluated());
            assertEquals(5, chat.history().size()); // system, user, assistant, user, assistant
            // the same tokens evaluated from scratch give the same reply
            int[] history = chat.session().history();
            int[] context = Arrays.copyOf(history, history.length - second.tokens().length);
            try (Session fresh = model.newSession()) {
                assertArrayEquals(second.tokens(), fresh.generate(context, o, TokenListener.NONE).tokens());
            }
        }
    }

    @Test
    void promptLongerThanTheContextIsRefused() {
        try (Session s = model.newSession()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.generate(new int[65], greedy(1), TokenListener.NONE));
            assertTrue(e.getMessage().contains("65 tokens"), e.getMessage());
        }
    }
}
