package org.jgemma.chat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.jgemma.gguf.GgufFile;
import org.jgemma.tokenizer.Tokenizer;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Gemma 3 template of the real vocabulary GGUF against Hugging Face's apply_chat_template (resources chat/
 * gemma3-hf-*.txt, made by chat/make_expected.py with the same conversations), and the built-in fallback against
 * llama.cpp's tests/test-chat-template.cpp expectation for its Gemma format.
 */
class ChatTemplateTest {
    static ChatTemplate template;
    static Tokenizer tokenizer;

    @BeforeAll
    static void load() throws Exception {
        try (GgufFile g = GgufFile.open(Fixtures.vocab())) {
            template = ChatTemplate.from(g);
            tokenizer = Tokenizer.from(g);
        }
    }

    static String resource(String name) throws IOException {
        try (InputStream in = ChatTemplateTest.class.getResourceAsStream("/chat/" + name)) {
            if (in == null) throw new IOException("missing test resource /chat/" + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static final List<ChatMessage> SYSTEM_USER_ASSISTANT_USER = List.of(
            ChatMessage.system("You are a helpful assistant"), ChatMessage.user("Hello"),
            ChatMessage.assistant("Hi there"), ChatMessage.user("Who are you"));

    @Test
    void ggufTemplateMatchesHuggingFace() throws IOException {
        assertFalse(template.isBuiltin());
        assertEquals(resource("gemma3-hf-system-user-assistant-user.txt"), template.render(SYSTEM_USER_ASSISTANT_USER, true));
        assertEquals(resource("gemma3-hf-user-only-no-prompt.txt"),
                template.render(List.of(ChatMessage.user("  What is 2+2?\n\n")), false));
        assertEquals(resource("gemma3-hf-user-assistant.txt"), template.render(List.of(
                ChatMessage.user("Write a haiku.\nAbout rain."), ChatMessage.assistant("\n Soft rain on the roof \n")), false));
        assertEquals(resource("gemma3-hf-user-prompt-unicode.txt"),
                template.render(List.of(ChatMessage.user("Ünïcödé 🫨 <b>bold</b>")), true));
    }

    @Test
    void raiseExceptionSurfacesTheTemplateMessage() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> template.render(List.of(ChatMessage.user("a"), ChatMessage.user("b")), false));
        assertTrue(e.getMessage().contains("Conversation roles must alternate user/assistant/user/assistant/..."), e.getMessage());
    }

    @Test
    void builtinGemmaMatchesLlamaCpp() throws IOException {
        List<ChatMessage> conversation = List.of(ChatMessage.system("You are a helpful assistant"), ChatMessage.user("Hello"),
                ChatMessage.assistant("Hi there"), ChatMessage.user("Who are you"),
                ChatMessage.assistant("   I am an assistant   "), ChatMessage.user("Another question"));
        ChatTemplate builtin = ChatTemplate.gemma();
        assertTrue(builtin.isBuiltin());
        assertEquals(resource("gemma-llamacpp-builtin.txt"), builtin.render(conversation, true));
    }

    @Test
    void tokenizeDoesNotDoubleBos() throws IOException {
        int[] expected = Arrays.stream(resource("gemma3-hf-system-user-assistant-user.ids").trim().split(" "))
                .mapToInt(Integer::parseInt).toArray();
        // HF ids of the HF rendering (llama.cpp gives the same ids for it)
        assertArrayEquals(expected, ChatTemplate.tokenize(tokenizer, template.render(SYSTEM_USER_ASSISTANT_USER, true)));
        // the built-in format has no BOS text: the tokenizer adds it, giving the same ids
        String builtin = ChatTemplate.gemma().render(SYSTEM_USER_ASSISTANT_USER, true);
        assertArrayEquals(expected, ChatTemplate.tokenize(tokenizer, builtin));
    }

    @Test
    void missingTemplateFallsBackToBuiltin() throws IOException {
        assertTrue(ChatTemplate.of(null, "<bos>", "<eos>").isBuiltin());
        assertTrue(ChatTemplate.of("  ", "<bos>", "<eos>").isBuiltin());
        String llamaCpp = resource("gemma-llamacpp-builtin.txt");
        assertEquals(llamaCpp.substring(0, llamaCpp.indexOf("<start_of_turn>user\nWho")),
                ChatTemplate.of(null, "<bos>", "<eos>").render(SYSTEM_USER_ASSISTANT_USER.subList(0, 3), false));
    }

    @Test
    void customTemplateSeesBosAndEosTokens() {
        ChatTemplate t = ChatTemplate.jinja("{{ bos_token }}{% for m in messages %}[{{ m['role'] }}:{{ m.content }}]{% endfor %}"
                + "{% if add_generation_prompt %}>{{ eos_token }}{% endif %}", "<bos>", "<eos>");
        assertEquals("<bos>[user:hi]><eos>", t.render(List.of(ChatMessage.user("hi")), true));
    }
}
