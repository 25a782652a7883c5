package org.jgemma.api;

import java.util.ArrayList;
import java.util.List;
import org.jgemma.chat.ChatMessage;
import org.jgemma.chat.ChatTemplate;
import org.jgemma.tokenizer.Tokenizer;

/**
 * {@link TextCodec} over {@link Tokenizer} and {@link ChatTemplate}: chats are rendered by the GGUF's own Jinja
 * template (or llama.cpp's built-in Gemma format when the file has none) and tokenized so that message contents
 * cannot inject control tokens unless asked to.
 */
final class TokenizerCodec implements TextCodec {
    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final int endOfTurn;

    TokenizerCodec(Tokenizer tokenizer, ChatTemplate template) {
        this.tokenizer = tokenizer;
        this.template = template;
        int eot = tokenizer.eotId();
        if (eot < 0) eot = tokenizer.tokenId("<end_of_turn>");
        this.endOfTurn = eot;
    }

    Tokenizer tokenizer() { return tokenizer; }

    ChatTemplate template() { return template; }

    @Override public int[] encode(String text, boolean addBos, boolean parseSpecial) { return tokenizer.encode(text, addBos, parseSpecial); }
    @Override public byte[] tokenBytes(int id) { return tokenizer.pieceBytes(id, false); }
    @Override public boolean isEog(int id) { return tokenizer.isEndOfGeneration(id); }
    @Override public int endOfTurn() { return endOfTurn; }

    @Override
    public int[] encodeChat(List<ChatMessage> messages, boolean addGenerationPrompt, boolean parseSpecialInContent) {
        List<ChatMessage> msgs = messages;
        return template.encode(tokenizer, msgs, addGenerationPrompt, parseSpecialInContent);
    }
}
