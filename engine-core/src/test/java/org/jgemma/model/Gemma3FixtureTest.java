package org.jgemma.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Stream;
import org.jgemma.backend.Backend;
import org.jgemma.backend.reference.ReferenceBackend;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fixture protocol (models/fixtures README) on the reference backend: the logits of every prompt position in one
 * batch, then 8 greedy steps fed back one at a time, against llama.cpp ({@code expected}) and HF transformers
 * ({@code exact}) logits.
 *
 * <p>Budgets (max |logit difference|; logits have std ~0.8): against {@code exact} 1e-3 on every format (the
 * reference backend computes what HF computes: float32 activations on the dequantized weights); against
 * {@code expected} 0.01 on F32, else about 1.5x the distance the README measures between the two references (llama.cpp
 * quantizes activations inside quantized dot products, FACTS §2.3).
 */
public class Gemma3FixtureTest {

    /** The backend the protocol runs on; a backend module may subclass this test and override it (and the budgets). */
    protected Backend createBackend() {
        return new ReferenceBackend();
    }

    /** Every (model, format) with at least one reference in models/fixtures. */
    public static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("tiny", "f32"), Arguments.of("tiny", "f16"), Arguments.of("tiny", "bf16"),
                Arguments.of("tiny", "q8_0"), Arguments.of("tiny", "q4_0"), Arguments.of("tiny", "q4_k_m"),
                Arguments.of("tiny", "q5_k_m"), Arguments.of("tiny", "q6_k"),
                Arguments.of("tinygqa", "q4_k_m"),
                Arguments.of("tinymix", "q4_k_m"), Arguments.of("tinymix", "q4_1"));
        // Not committed (repository size limit) and not derivable without their F32 source: tinygqa F32/Q8_0 and
        // tinymix Q5_1. Q5_1 is covered by the dequantization and conformance tests on random blocks.
    }

    protected double expectedBudget(String fmt) {
        return switch (fmt) {
            case "f32" -> 0.01;
            case "f16", "bf16" -> 0.05;
            case "q8_0" -> 0.15;
            default -> 0.25;
        };
    }

    /**
     * Fraction of rows whose argmax must agree with the nearer reference: 0.95 by default. A backend whose activations
     * are quantized differently from llama.cpp's CPU path may override it for formats with no HF reference (then the
     * only reference carries llama.cpp's own activation rounding, and near-tied logits of a random model flip).
     */
    protected double argmaxFloor(String fmt, boolean hasExact) {
        return 0.95;
    }

    /**
     * Whether a greedy step may pick the reference's runner-up where the reference's own margin between the two is
     * within twice the budget (a near tie: logits each within the budget of the reference's can order the two either
     * way). Then the rows are compared up to the one that made that pick (the rows after it follow a token the
     * reference never saw), under the unchanged budgets. Off by default; a backend whose summation order differs from
     * both references (the CUDA tiles) turns it on: tiny q8_0's first greedy step has a margin of 0.068 (llama.cpp)
     * and 0.089 (HF) between tokens 4 and 13, under the 0.15 budget.
     */
    protected boolean nearTieFlipsAllowed() {
        return false;
    }

    /**
     * Rows of {@code run} comparable with {@code ref}: all of them if the greedy tokens agree; else, if near-tie flips
     * are allowed and the first differing step was a near tie in {@code ref} (margin ≤ 2·budget), the rows up to the
     * one that made the differing pick; else all of them (and the comparison fails as before).
     */
    int comparableRows(Run run, Fixtures.Reference ref, double budget) {
        int np = ref.nPrompt(), all = run.logits().length;
        int[] theirs = Arrays.copyOfRange(ref.tokens(), np, ref.tokens().length);
        int j = 0;
        while (j < run.generated().length && j < theirs.length && run.generated()[j] == theirs[j]) j++;
        if (j == run.generated().length || !nearTieFlipsAllowed()) return all;
        float[] row = ref.logits()[np + j - 1];  // the reference row that chose theirs[j]
        double margin = row[theirs[j]] - row[run.generated()[j]];
        System.out.printf(Locale.ROOT, "greedy step %d: %d here, %d in the reference, whose margin between them is %.4f (budget %.3f)%n",
                j, run.generated()[j], theirs[j], margin, budget);
        return margin <= 2 * budget ? np + j : all;
    }

    private static float[][] head(float[][] rows, int n) {
        return Arrays.copyOf(rows, n);
    }

    /** The reference backend measures max 5e-6 against HF on every format with an exact reference. */
    protected double exactBudget(String fmt) {
        return 1e-3;
    }

    /**
     * The GGUF of a fixture model and format: committed, or derived by {@link Fixtures#model} from the committed F32 of
     * the same model. tinygqa F32/Q8_0 and tinymix Q4_1/Q5_1 have neither (no F32 source is committed for those
     * models), so those cases are skipped with that reason.
     */
    static Path modelFile(String model, String fmt) {
        Path root = Fixtures.root();
        String rel = Fixtures.relPath(model, fmt);
        boolean committed = Files.exists(root.resolve(rel)) || Files.exists(root.resolve(rel + ".gz"));
        String src = Fixtures.relPath(model, "f32");
        boolean derivable = Files.exists(root.resolve(src)) || Files.exists(root.resolve(src + ".gz"));
        assumeTrue(committed || derivable, () -> "fixture model " + rel + " is not committed and cannot be derived (no " + src + ")");
        return Fixtures.model(model, fmt);
    }

    static Fixtures.Reference referenceOrNull(String model, String kind, String fmt) {
        Path root = Fixtures.root();
        String rel = model + "/" + kind + "-" + fmt + ".bin";
        if (!Files.exists(root.resolve(rel)) && !Files.exists(root.resolve(rel + ".gz"))) return null;
        return Fixtures.reference(model, kind, fmt);
    }

    /** The protocol's logits: prompt rows from one batch, then one row per greedy step; also the greedy tokens. */
    record Run(float[][] logits, int[] generated) {}

    static Run runProtocol(Gemma3Model m, int[] prompt, int nGen) {
        Gemma3Model.Session s = m.newSession();
        int nv = m.vocabSize();
        float[][] rows = new float[prompt.length + nGen][];
        float[] all = s.forward(prompt, true);
        for (int t = 0; t < prompt.length; t++) rows[t] = Arrays.copyOfRange(all, t * nv, (t + 1) * nv);
        int[] gen = new int[nGen];
        int next = argmax(rows[prompt.length - 1]);
        for (int i = 0; i < nGen; i++) {
            gen[i] = next;
            rows[prompt.length + i] = s.forward(new int[] {next}, false);
            next = argmax(rows[prompt.length + i]);
        }
        return new Run(rows, gen);
    }

    static int argmax(float[] x) {
        int b = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[b]) b = i;
        return b;
    }

    /** max |a-b|, RMS of a-b, and the fraction of rows whose argmax agrees. */
    record Diff(double max, double rms, double argmaxAgreement) {
        static Diff of(float[][] a, float[][] b) {
            double max = 0, ss = 0;
            long n = 0;
            int agree = 0;
            for (int r = 0; r < a.length; r++) {
                for (int j = 0; j < a[r].length; j++) {
                    double d = Math.abs(a[r][j] - b[r][j]);
                    max = Math.max(max, d);
                    ss += d * d;
                    n++;
                }
                if (argmax(a[r]) == argmax(b[r])) agree++;
            }
            return new Diff(max, Math.sqrt(ss / n), (double) agree / a.length);
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "max %.5f rms %.6f argmax %.1f%%", max, rms, 100 * argmaxAgreement);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    public void fixtureProtocol(String model, String fmt) throws IOException {
        Fixtures.Reference expected = referenceOrNull(model, "expected", fmt);
        Fixtures.Reference exact = referenceOrNull(model, "exact", fmt);
        Path file = modelFile(model, fmt);
        try (GgufFile f = GgufFile.open(file); Backend b = createBackend()) {
            for (GgufTensorInfo t : f.tensors()) {
                assumeTrue(b.supportsOp(org.jgemma.backend.Op.MATMUL, t.type()),
                        () -> "reference backend cannot read " + t.type() + " yet (tensor " + t.name() + ")");
            }
            Fixtures.Reference any = expected != null ? expected : exact;
            int[] prompt = Fixtures.promptIds(model);
            assertArrayEquals(prompt, any.prompt(), "prompt-ids.txt vs the reference's prompt");
            Gemma3Model m = Gemma3Model.load(f, b, prompt.length + any.nGen());
            assertEquals(any.nVocab(), m.vocabSize(), "vocabulary size");
            Run run = runProtocol(m, prompt, any.nGen());

            int nExp = expected == null ? 0 : comparableRows(run, expected, expectedBudget(fmt));
            int nEx = exact == null ? 0 : comparableRows(run, exact, exactBudget(fmt));
            Diff dExp = expected == null ? null : Diff.of(head(run.logits(), nExp), head(expected.logits(), nExp));
            Diff dEx = exact == null ? null : Diff.of(head(run.logits(), nEx), head(exact.logits(), nEx));
            System.out.printf(Locale.ROOT, "%-8s %-7s vs expected: %s | vs exact: %s | greedy %s%n", model, fmt,
                    dExp == null ? "-" : dExp, dEx == null ? "-" : dEx, Arrays.toString(run.generated()));

            if (dExp != null) {
                assertTrue(dExp.max() <= expectedBudget(fmt), () -> model + " " + fmt + " vs llama.cpp: " + dExp + " > " + expectedBudget(fmt));
            }
            if (dEx != null) {
                assertTrue(dEx.max() <= exactBudget(fmt), () -> model + " " + fmt + " vs HF: " + dEx + " > " + exactBudget(fmt));
            }
            Diff nearer = dExp == null ? dEx : dEx == null ? dExp : (dEx.max() <= dExp.max() ? dEx : dExp);
            double floor = argmaxFloor(fmt, exact != null);
            assertTrue(nearer.argmaxAgreement() >= floor, () -> model + " " + fmt + ": argmax agreement " + nearer + " < " + floor);

            // a near-tie flip (comparableRows cut the rows short) counts as agreeing with that reference
            int all = run.logits().length;
            boolean eqExp = expected != null && (Arrays.equals(run.generated(), expected.generated()) || nExp < all);
            boolean eqEx = exact != null && (Arrays.equals(run.generated(), exact.generated()) || nEx < all);
            if (fmt.equals("f32")) {
                assertArrayEquals(expected.generated(), run.generated(), "greedy tokens vs llama.cpp");
                assertArrayEquals(exact.generated(), run.generated(), "greedy tokens vs HF");
            } else {
                assertTrue(eqExp || eqEx, () -> model + " " + fmt + ": greedy " + Arrays.toString(run.generated())
                        + " matches neither reference (llama.cpp " + (expected == null ? "-" : Arrays.toString(expected.generated()))
                        + ", HF " + (exact == null ? "-" : Arrays.toString(exact.generated())) + ")");
            }
        }
    }
}
