package org.jgemma.tokenizer;

/**
 * Token attribute bits, as llama.cpp's {@code enum llama_token_attr}. A token's attributes start from its
 * {@link TokenType} and are then adjusted the way llama.cpp's loader does: EOG-looking texts gain CONTROL (so
 * Gemma's USER_DEFINED {@code </s>} is USER_DEFINED | CONTROL), CONTROL tokens whose text contains "unused" gain UNUSED.
 */
final class TokenAttr {
    private TokenAttr() {}

    static final int UNDEFINED = 0;
    static final int UNKNOWN = 1;
    static final int UNUSED = 1 << 1;
    static final int NORMAL = 1 << 2;
    static final int CONTROL = 1 << 3;
    static final int USER_DEFINED = 1 << 4;
    static final int BYTE = 1 << 5;

    static int of(TokenType type) {
        return switch (type) {
            case UNDEFINED -> UNDEFINED;
            case NORMAL -> NORMAL;
            case UNKNOWN -> UNKNOWN;
            case CONTROL -> CONTROL;
            case USER_DEFINED -> USER_DEFINED;
            case UNUSED -> UNUSED;
            case BYTE -> BYTE;
        };
    }
}
