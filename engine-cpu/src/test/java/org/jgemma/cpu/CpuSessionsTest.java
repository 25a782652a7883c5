package org.jgemma.cpu;

import org.jgemma.testing.SessionChecks;
import org.junit.jupiter.api.Test;

/** The session checks on the CPU backend: memory lifecycle, and batched decoding equal to decoding alone. */
class CpuSessionsTest {
    @Test
    void thousandSessionsAndGenerateCallsGiveBackAllTheirMemory() throws Exception {
        SessionChecks.lifecycle("cpu", "tiny/gemma3-tiny-f32.gguf", 1000);
    }

    @Test
    void batchedDecodingGivesTheTokensOfDecodingAloneF32() throws Exception {
        SessionChecks.batchedEqualsAlone("cpu", "tiny/gemma3-tiny-f32.gguf", 4, 12);
    }

    @Test
    void batchedDecodingGivesTheTokensOfDecodingAloneQuantized() throws Exception {
        SessionChecks.batchedEqualsAlone("cpu", "tinymix/gemma3-tinymix-q4_k_m.gguf", 4, 12);
    }

    @Test
    void closingTheModelWhileAnotherThreadGeneratesEndsItWithAClearException() throws Exception {
        SessionChecks.closeWhileGenerating("cpu", "tiny/gemma3-tiny-f32.gguf", 12);
    }
}
