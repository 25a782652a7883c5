package org.jgemma.api;

import java.util.List;

/**
 * Gemma 3's chat template (the {@code tokenizer.chat_template} of the gemma-3 GGUFs) written out in Java: a system
 * message becomes the prefix of the first user turn, roles alternate user / model, contents are trimmed.
 */
final class GemmaChatFormat {
    private GemmaChatFormat() {}

    static String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder("<bos>");
        String firstUserPrefix = "";
        int start = 0;
        if (!messages.isEmpty() && messages.getFirst().role().equals("system")) {
            firstUserPrefix = messages.getFirst().content() + "\n\n";
            start = 1;
        }
        for (int i = start; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            boolean user = m.role().equals("user");
            if (user != ((i - start) % 2 == 0)) {
                throw new IllegalArgumentException("conversation roles must alternate user/assistant/user/...; message " + i + " is " + m.role());
            }
            String role = m.role().equals("assistant") ? "model" : m.role();
            sb.append("<start_of_turn>").append(role).append('\n');
            if (i == start) sb.append(firstUserPrefix);
            sb.append(m.content().strip()).append("<end_of_turn>\n");
        }
        if (addGenerationPrompt) sb.append("<start_of_turn>model\n");
        return sb.toString();
    }
}
