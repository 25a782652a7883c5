package org.jgemma.api;

import java.util.List;
import org.jgemma.tokenizer.Tokenizer;

/**
 * {@link TextCodec} over {@link Tokenizer}. Chats are rendered in Gemma 3's turn format, as the official template
 * writes it: {@code <bos>}, the system prompt folded into the first user turn, {@code <start_of_turn>user\n...<end_of_turn>\n},
 * the assistant as {@code model}, contents trimmed.
 */
final class TokenizerCodec implements TextCodec {
    private final Tokenizer tokenizer;
    private final int endOfTurn;

    TokenizerCodec(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
        int eot = tokenizer.eotId();
        if (eot < 0) eot = tokenizer.tokenId("<end_of_turn>");
        this.endOfTurn = eot;
    }

    Tokenizer tokenizer() { return tokenizer; }

    @Override public int[] encode(String text, boolean addBos, boolean parseSpecial) { return tokenizer.encode(text, addBos, parseSpecial); }
    @Override public byte[] tokenBytes(int id) { return tokenizer.pieceBytes(id, false); }
    @Override public boolean isEog(int id) { return tokenizer.isEndOfGeneration(id); }
    @Override public int endOfTurn() { return endOfTurn; }

    @Override
    public String renderChat(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return GemmaChatFormat.render(messages, addGenerationPrompt);
    }
}
