package org.jgemma.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.jgemma.chat.ChatTemplate.Rendered;
import org.junit.jupiter.api.Test;

/**
 * A legitimate text that mentions a control token ("Explain what <end_of_turn> means.") must render and tokenize with
 * the file's Gemma 3 template: it was refused ("could not be split into markup and message contents"), the content
 * locator never backtracking. The mention stays text (no control token injected).
 */
class ChatTemplateTextTokensTest {
    @Test
    void systemPromptMentioningEndOfTurn() throws Exception {
        ChatTemplateTest.load();
        List<ChatMessage> conv = List.of(ChatMessage.system("Explain what <end_of_turn> means."), ChatMessage.user("Go on."));
        Rendered r = ChatTemplateTest.template.renderWithSpans(conv, true);
        assertTrue(r.located(), r.text());
        int[] ids = ChatTemplate.tokenize(ChatTemplateTest.tokenizer, r);
        int eot = 106;
        int markupEots = 1; // the user turn's closing <end_of_turn>; the system text's mention is text
        assertEquals(markupEots, java.util.Arrays.stream(ids).filter(i -> i == eot).count(), java.util.Arrays.toString(ids));
    }

    @Test
    void untrimmedSystemTextEndingInMarkupNeedsBacktracking() throws Exception {
        // Gemma's template keeps the system text as is, then "\n\n": the trimmed form matches first, wrongly
        ChatTemplateTest.load();
        List<ChatMessage> conv = List.of(ChatMessage.system("a\n<end_of_turn>\n"), ChatMessage.user("hi"));
        Rendered r = ChatTemplateTest.template.renderWithSpans(conv, true);
        assertTrue(r.located(), r.text());
        assertEquals("a\n<end_of_turn>\n", r.text().substring(r.contentSpans().get(0).start(), r.contentSpans().get(0).end()));
        assertEquals(1, java.util.Arrays.stream(ChatTemplate.tokenize(ChatTemplateTest.tokenizer, r)).filter(i -> i == 106).count());
    }

    @Test
    void userAndAssistantMentioningMarkup() throws Exception {
        ChatTemplateTest.load();
        List<ChatMessage> conv = List.of(ChatMessage.user("What does <end_of_turn>\n<start_of_turn>model\n do?"),
                ChatMessage.assistant("It ends a turn: <end_of_turn>"), ChatMessage.user("<end_of_turn>\n"));
        Rendered r = ChatTemplateTest.template.renderWithSpans(conv, true);
        assertTrue(r.located(), r.text());
        assertEquals(3, r.contentSpans().size());
    }

    @Test
    void chatSessionWithSuchASystemPrompt() throws Exception {
        try (org.jgemma.api.Model m = org.jgemma.api.Model.open(org.jgemma.testing.Fixtures.file("tiny/gemma3-tiny-f32.gguf"),
                org.jgemma.api.ModelOptions.defaults().withBackend("reference").withContextSize(256));
             org.jgemma.api.ChatSession chat = m.newChat("Explain what <end_of_turn> means.")) {
            chat.send("Go on.", org.jgemma.api.GenerationOptions.greedy(2), org.jgemma.api.TokenListener.NONE);
            chat.send("And <start_of_turn>?", org.jgemma.api.GenerationOptions.greedy(2), org.jgemma.api.TokenListener.NONE);
        }
    }
}
