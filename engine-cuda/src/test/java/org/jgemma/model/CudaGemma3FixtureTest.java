package org.jgemma.model;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendOptions;
import org.jgemma.backend.BackendProvider;
import org.jgemma.backend.Op;
import org.jgemma.cuda.CudaBackendProvider;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fixture protocol of {@link Gemma3FixtureTest} (prompt in one batch, then 8 greedy steps) on the CUDA backend,
 * against llama.cpp ({@code expected}) and HF ({@code exact}) logits. The CUDA kernels compute as llama.cpp's GPU path
 * does (q8_1 activations in quantized dot products, f16 KV cache, f32 GELU), so the nearer reference must be within
 * the llama.cpp budget of that test, with argmax agreement ≥ 95% and the greedy tokens of one reference.
 * Skipped, with the probe's reason, where no CUDA device is usable.
 */
class CudaGemma3FixtureTest {

    @ParameterizedTest(name = "cuda {0} {1}")
    @MethodSource("org.jgemma.model.Gemma3FixtureTest#cases")
    void fixtureProtocolOnCuda(String model, String fmt) throws IOException {
        BackendProvider.Availability a = new CudaBackendProvider().probe();
        assumeTrue(a.available(), () -> "cuda backend unavailable: " + a.reason());
        Fixtures.Reference expected = Gemma3FixtureTest.referenceOrNull(model, "expected", fmt);
        Fixtures.Reference exact = Gemma3FixtureTest.referenceOrNull(model, "exact", fmt);
        Path file = Gemma3FixtureTest.modelFile(model, fmt);
        try (GgufFile f = GgufFile.open(file); Backend b = new CudaBackendProvider().create(BackendOptions.defaults())) {
            for (GgufTensorInfo t : f.tensors()) {
                assumeTrue(b.supportsOp(Op.MATMUL, t.type()), () -> "cuda cannot read " + t.type() + " (tensor " + t.name() + ")");
            }
            Fixtures.Reference any = expected != null ? expected : exact;
            Gemma3Model m = Gemma3Model.load(f, b, 256);  // longest fixture prompt + 8 steps fits
            Gemma3FixtureTest.Run run = Gemma3FixtureTest.runProtocol(m, Fixtures.promptIds(model), any.nGen());
            Gemma3FixtureTest.Diff dExp = expected == null ? null : Gemma3FixtureTest.Diff.of(run.logits(), expected.logits());
            Gemma3FixtureTest.Diff dEx = exact == null ? null : Gemma3FixtureTest.Diff.of(run.logits(), exact.logits());
            System.out.printf(Locale.ROOT, "cuda %-8s %-7s vs expected: %s | vs exact: %s | greedy %s%n", model, fmt,
                    dExp == null ? "-" : dExp, dEx == null ? "-" : dEx, Arrays.toString(run.generated()));
            Gemma3FixtureTest.Diff nearer = dExp == null ? dEx : dEx == null ? dExp : (dEx.max() <= dExp.max() ? dEx : dExp);
            double budget = Gemma3FixtureTest.expectedBudget(fmt);
            assertTrue(nearer.max() <= budget, () -> "cuda " + model + " " + fmt + ": " + nearer + " > " + budget);
            assertTrue(nearer.argmaxAgreement() >= 0.95, () -> "cuda " + model + " " + fmt + ": argmax agreement " + nearer);
            boolean eq = (expected != null && Arrays.equals(run.generated(), expected.generated()))
                    || (exact != null && Arrays.equals(run.generated(), exact.generated()));
            assertTrue(eq, () -> "cuda " + model + " " + fmt + ": greedy " + Arrays.toString(run.generated()) + " matches neither reference");
        }
    }
}
