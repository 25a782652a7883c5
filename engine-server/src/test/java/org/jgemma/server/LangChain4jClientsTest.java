package org.jgemma.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** LangChain4j's Ollama and OpenAI chat models pointed at the server get `jgemma run`'s greedy text. */
class LangChain4jClientsTest {
    static TestServer ts;

    @BeforeAll
    static void start() throws Exception {
        ts = new TestServer();
    }

    @AfterAll
    static void stop() throws Exception {
        ts.close();
    }

    @Test
    void ollamaChatModel() throws Exception {
        OllamaChatModel model = OllamaChatModel.builder().baseUrl(ts.base()).modelName(TestServer.GQA)
                .temperature(0.0).numPredict(10).timeout(Duration.ofSeconds(120)).build();
        ChatResponse r = model.chat(ChatRequest.builder().messages(SystemMessage.from("Be brief."), UserMessage.from("Hello")).build());
        assertEquals(TestServer.expectedChat(TestServer.GQA, "Be brief.", "Hello", 10), r.aiMessage().text());
        assertEquals(10, r.tokenUsage().outputTokenCount());
        assertEquals(TestServer.expectedChat(TestServer.GQA, null, "Tell me about the sea", 10), model.chat("Tell me about the sea"));
    }

    @Test
    void ollamaStreamingChatModel() throws Exception {
        OllamaStreamingChatModel model = OllamaStreamingChatModel.builder().baseUrl(ts.base()).modelName(TestServer.MIX)
                .temperature(0.0).numPredict(10).timeout(Duration.ofSeconds(120)).build();
        assertEquals(TestServer.expectedChat(TestServer.MIX, null, "Why is the sky blue?", 10), stream(model, "Why is the sky blue?"));
    }

    @Test
    void openAiChatModel() throws Exception {
        OpenAiChatModel model = OpenAiChatModel.builder().baseUrl(ts.base() + "/v1").apiKey("unused").modelName(TestServer.GQA)
                .temperature(0.0).maxTokens(10).timeout(Duration.ofSeconds(120)).maxRetries(0).build();
        assertEquals(TestServer.expectedChat(TestServer.GQA, null, "Tell me about the sea", 10), model.chat("Tell me about the sea"));
        OpenAiStreamingChatModel streaming = OpenAiStreamingChatModel.builder().baseUrl(ts.base() + "/v1").apiKey("unused")
                .modelName(TestServer.MIX).temperature(0.0).maxTokens(10).timeout(Duration.ofSeconds(120)).build();
        assertEquals(TestServer.expectedChat(TestServer.MIX, null, "Hello", 10), stream(streaming, "Hello"));
    }

    @Test
    void unknownModelIsAClientError() {
        OllamaChatModel model = OllamaChatModel.builder().baseUrl(ts.base()).modelName("gemma3:27b").maxRetries(0)
                .timeout(Duration.ofSeconds(30)).build();
        Exception e = assertThrows(RuntimeException.class, () -> model.chat("hi"));
        assertTrue(String.valueOf(e.getMessage()).contains("not found"), String.valueOf(e.getMessage()));
    }

    private static String stream(dev.langchain4j.model.chat.StreamingChatModel model, String prompt) throws Exception {
        CompletableFuture<String> done = new CompletableFuture<>();
        StringBuilder partial = new StringBuilder();
        model.chat(prompt, new StreamingChatResponseHandler() {
            @Override public void onPartialResponse(String s) { partial.append(s); }
            @Override public void onCompleteResponse(ChatResponse r) { done.complete(r.aiMessage().text()); }
            @Override public void onError(Throwable t) { done.completeExceptionally(t); }
        });
        String text = done.get(120, TimeUnit.SECONDS);
        assertEquals(text, partial.toString(), "the pieces add up to the whole");
        return text;
    }
}
