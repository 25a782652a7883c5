package org.jgemma.opencl;

import org.jgemma.testing.SessionChecks;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The session checks on the OpenCL backend (PoCL in CI): memory lifecycle, and batched decoding equal to decoding alone. */
class OpenClSessionsTest {
    @BeforeAll
    static void device() {
        OpenClTestSupport.backend(); // skips (or fails where required) without a device
    }

    @Test
    void thousandSessionsAndGenerateCallsGiveBackAllTheirMemory() throws Exception {
        SessionChecks.lifecycle("opencl", "tiny/gemma3-tiny-f32.gguf", 1000);
    }

    @Test
    void batchedDecodingGivesTheTokensOfDecodingAlone() throws Exception {
        SessionChecks.batchedEqualsAlone("opencl", "tinymix/gemma3-tinymix-q4_k_m.gguf", 4, 12);
    }
}
