package org.jgemma.cuda;

import org.jgemma.testing.SessionChecks;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The session checks on the CUDA backend (the host driver in CI): sessions and generate calls give back exactly the
 * device memory they took (KV caches, positions, the recorded decode step's graph), and decode steps batched across
 * sessions give the tokens of decoding alone. Fewer rounds than the CPU's 1000: the kernels run on fibers here.
 */
class CudaSessionsTest {
    @BeforeEach
    void available() {
        CudaTestSupport.create().close();  // skips (or fails under CI) with the reason when the driver cannot run
    }

    @Test
    void sessionsAndGenerateCallsGiveBackAllTheirDeviceMemory() throws Exception {
        SessionChecks.lifecycle("cuda", "tiny/gemma3-tiny-f32.gguf", 20);
    }

    @Test
    void batchedDecodingGivesTheTokensOfDecodingAloneQuantized() throws Exception {
        SessionChecks.batchedEqualsAlone("cuda", "tinymix/gemma3-tinymix-q4_k_m.gguf", 4, 12);
    }
}
