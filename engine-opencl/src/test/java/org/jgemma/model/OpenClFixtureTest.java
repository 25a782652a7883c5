package org.jgemma.model;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendOptions;
import org.jgemma.backend.BackendUnavailableException;
import org.jgemma.opencl.OpenClBackend;
import org.junit.jupiter.api.Assertions;

/**
 * The fixture protocol of {@link Gemma3FixtureTest} (prompt logits in one batch, then 8 greedy steps) on the OpenCL
 * backend, against llama.cpp ({@code expected}) and HF transformers ({@code exact}) logits. Budgets: those of the
 * reference backend's test, plus 0.01 against HF for the F16 KV cache (llama.cpp's cache type; HF keeps f32).
 * Without an OpenCL device it is skipped, or fails when CI / -Djgemma.requireOpenCl is set.
 */
class OpenClFixtureTest extends Gemma3FixtureTest {

    @Override
    protected Backend createBackend() {
        try {
            return OpenClBackend.create(BackendOptions.defaults());
        } catch (BackendUnavailableException e) {
            String ci = System.getenv("CI");
            if ((ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false")) || Boolean.getBoolean("jgemma.requireOpenCl")) {
                Assertions.fail("no OpenCL backend (" + e.getMessage() + ") but CI or -Djgemma.requireOpenCl requires one");
            }
            assumeTrue(false, "OpenCL unavailable: " + e.getMessage());
            throw e;
        }
    }

    @Override
    protected double exactBudget(String fmt) {
        return super.exactBudget(fmt) + 0.01;
    }
}
