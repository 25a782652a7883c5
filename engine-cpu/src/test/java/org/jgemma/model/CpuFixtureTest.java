package org.jgemma.model;

import org.jgemma.backend.Backend;
import org.jgemma.cpu.CpuBackend;

/**
 * The fixture protocol of {@link Gemma3FixtureTest} (prompt logits in one batch, then 8 greedy steps) on the CPU
 * backend, against llama.cpp ({@code expected}) and HF transformers ({@code exact}). The CPU backend quantizes
 * activations to 8 bits in decode steps (as llama.cpp) and computes prompt batches in float32 on dequantized weights
 * (as transformers), so the budgets against each reference are the ones the fixture README gives for an engine that
 * does either: the expected-budget of Gemma3FixtureTest, and the same for exact.
 */
class CpuFixtureTest extends Gemma3FixtureTest {

    @Override
    protected Backend createBackend() {
        return new CpuBackend(2);
    }

    @Override
    protected double exactBudget(String fmt) {
        return expectedBudget(fmt);
    }
}
