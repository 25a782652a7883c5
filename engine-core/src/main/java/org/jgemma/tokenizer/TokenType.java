package org.jgemma.tokenizer;

/**
 * Token types as stored in {@code tokenizer.ggml.token_type} (llama.cpp {@code enum llama_token_type}; the converter's
 * SentencePieceTokenTypes). Codes outside 0..6 load as {@link #UNDEFINED}, as llama.cpp does.
 */
public enum TokenType {
    UNDEFINED, NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE;

    private static final TokenType[] BY_CODE = values();

    public static TokenType fromCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : UNDEFINED;
    }
}
