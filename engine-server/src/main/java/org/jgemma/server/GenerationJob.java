package org.jgemma.server;

import java.util.List;
import org.jgemma.api.GenerationOptions;
import org.jgemma.chat.ChatMessage;

/**
 * What one request asks the model for, whichever API it came through.
 *
 * @param messages  the conversation, rendered by the model's chat template with the model's turn opened; null for raw
 * @param rawPrompt the text to continue as it is (BOS first, special tokens parsed), when {@code messages} is null
 * @param options   sampling, token limit and stop strings (server defaults, then the Ollama params, then the request)
 * @param numCtx    the request's context limit in tokens ({@code num_ctx}); 0: the server's
 * @param cachePrompt reuse the KV cache of the longest common prefix a slot holds (chats); false: evaluate cold
 */
record GenerationJob(List<ChatMessage> messages, String rawPrompt, GenerationOptions options, int numCtx, boolean cachePrompt) {
    GenerationJob {
        if ((messages == null) == (rawPrompt == null)) throw new IllegalArgumentException("messages or a raw prompt, not both");
        if (messages != null) messages = List.copyOf(messages);
    }
}
