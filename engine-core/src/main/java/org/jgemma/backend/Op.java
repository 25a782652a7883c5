package org.jgemma.backend;

/** The ops of a gemma3 step, for {@link Backend#supportsOp}. */
public enum Op {
    EMBED, RMS_NORM, MATMUL, ROPE, KV_APPEND, ATTENTION, GEGLU, ADD, SOFTCAP, COPY, ARGMAX,
    /** {@link Backend#attentionNonCausal} (optional: the image chunk of a Gemma 3 vision prompt). */
    ATTENTION_NON_CAUSAL
}
