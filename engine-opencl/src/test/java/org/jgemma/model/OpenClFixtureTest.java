package org.jgemma.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.Locale;
import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendOptions;
import org.jgemma.backend.BackendUnavailableException;
import org.jgemma.backend.Op;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.model.Gemma3FixtureTest.Diff;
import org.jgemma.model.Gemma3FixtureTest.Run;
import org.jgemma.opencl.OpenClBackend;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fixture protocol of {@link Gemma3FixtureTest} (prompt logits in one batch, then 8 greedy steps) on the OpenCL
 * backend, against llama.cpp ({@code expected}) and HF transformers ({@code exact}) logits. Budgets: those of the
 * reference backend's test, plus 0.01 against HF for the F16 KV cache (llama.cpp's cache type; HF keeps f32).
 * Without an OpenCL device it is skipped, or fails when CI / -Djgemma.requireOpenCl is set.
 */
class OpenClFixtureTest {

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("org.jgemma.model.Gemma3FixtureTest#cases")
    void fixtureProtocolOnOpenCl(String model, String fmt) throws IOException {
        Fixtures.Reference expected = Gemma3FixtureTest.referenceOrNull(model, "expected", fmt);
        Fixtures.Reference exact = Gemma3FixtureTest.referenceOrNull(model, "exact", fmt);
        try (GgufFile f = GgufFile.open(Gemma3FixtureTest.modelFile(model, fmt)); Backend b = open()) {
            for (GgufTensorInfo t : f.tensors()) {
                assumeTrue(b.supportsOp(Op.MATMUL, t.type()), () -> "opencl does not read " + t.type() + " (" + t.name() + ")");
            }
            Fixtures.Reference any = expected != null ? expected : exact;
            int[] prompt = Fixtures.promptIds(model);
            Gemma3Model m = Gemma3Model.load(f, b, Math.max(64, prompt.length + any.nGen()));
            Run run = Gemma3FixtureTest.runProtocol(m, prompt, any.nGen());
            Diff dExp = expected == null ? null : Diff.of(run.logits(), expected.logits());
            Diff dEx = exact == null ? null : Diff.of(run.logits(), exact.logits());
            System.out.printf(Locale.ROOT, "opencl %-8s %-7s vs expected: %s | vs exact: %s | greedy %s%n", model, fmt,
                    dExp == null ? "-" : dExp, dEx == null ? "-" : dEx, Arrays.toString(run.generated()));
            double expBudget = Gemma3FixtureTest.expectedBudget(fmt);
            double exBudget = Gemma3FixtureTest.exactBudget(fmt) + 0.01;
            if (dExp != null) assertTrue(dExp.max() <= expBudget, () -> model + " " + fmt + " vs llama.cpp: " + dExp + " > " + expBudget);
            if (dEx != null) assertTrue(dEx.max() <= exBudget, () -> model + " " + fmt + " vs HF: " + dEx + " > " + exBudget);
            Diff nearer = dExp == null ? dEx : dEx == null ? dExp : (dEx.max() <= dExp.max() ? dEx : dExp);
            assertTrue(nearer.argmaxAgreement() >= 0.95, () -> model + " " + fmt + ": argmax agreement " + nearer);
            boolean eqExp = expected != null && Arrays.equals(run.generated(), expected.generated());
            boolean eqEx = exact != null && Arrays.equals(run.generated(), exact.generated());
            if (fmt.equals("f32")) {
                assertArrayEquals(expected.generated(), run.generated(), "greedy tokens vs llama.cpp");
            } else {
                assertTrue(eqExp || eqEx, () -> model + " " + fmt + ": greedy " + Arrays.toString(run.generated()) + " matches neither reference");
            }
        }
    }

    private static Backend open() {
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
}
