package org.jgemma.api;

import java.util.List;
import org.jgemma.chat.ChatMessage;

/**
 * What the API needs from the tokenizer and chat template (an adapter over {@code org.jgemma.tokenizer.Tokenizer}
 * and {@code org.jgemma.chat.ChatTemplate}).
 */
interface TextCodec {
    /** Token ids of {@code text}; BOS first if {@code addBos}; special-token text such as {@code <start_of_turn>} becomes its id if {@code parseSpecial}. */
    int[] encode(String text, boolean addBos, boolean parseSpecial);

    /** The UTF-8 bytes token {@code id} stands for in output text (byte tokens give one byte; control tokens none). */
    byte[] tokenBytes(int id);

    /** End of generation: EOS, {@code <end_of_turn>} and the other EOG tokens of the vocabulary. */
    boolean isEog(int id);

    /** The end-of-turn token the chat template closes a model turn with, or -1. */
    int endOfTurn();

    /**
     * The ids of the conversation rendered by the model's chat template (BOS included), with the model turn opened if
     * {@code addGenerationPrompt}. Special-token text is parsed in the template's markup only, and in message contents
     * too if {@code parseSpecialInContent}.
     */
    int[] encodeChat(List<ChatMessage> messages, boolean addGenerationPrompt, boolean parseSpecialInContent);
}
