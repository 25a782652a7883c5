package org.jgemma.api;

/** Why a generation ended. */
public enum StopReason {
    /** The model produced an end-of-generation token (EOS, {@code <end_of_turn>}). */
    END_OF_GENERATION,
    /** The text reached one of the stop strings (which is not part of the output). */
    STOP_STRING,
    /** {@link GenerationOptions#maxTokens()} tokens were generated. */
    MAX_TOKENS,
    /** The sequence filled the context. */
    CONTEXT_FULL,
    /** {@link Session#cancel()} was called or the listener asked to stop. */
    CANCELLED
}
