package org.jgemma.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI run in-process (picocli), against the fixtures' references. */
class CliTest {
    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void tokenizeMatchesLlamaCppOnTheFixtureCases(@TempDir Path tmp) throws Exception {
        String vocab = Fixtures.vocab().toString();
        List<String> cases = Arrays.asList(Files.readString(Fixtures.file("tokenizer/cases.txt")).split("\n@@@\n", -1));
        List<String> special = Files.readAllLines(Fixtures.file("tokenizer/expected-ids-special.txt"));
        List<String> plain = Files.readAllLines(Fixtures.file("tokenizer/expected-ids-plain.txt"));
        assertEquals(cases.size(), special.size(), "cases vs expected lines");
        for (int i : new int[] {0, 4, 8, 11, 22, 24, 38}) { // each run reads the 262k vocabulary: a sample
            Path f = tmp.resolve("case" + i + ".txt");
            Files.writeString(f, cases.get(i));
            Result r = run("tokenize", vocab, "--file", f.toString());
            assertEquals(0, r.code(), r.err());
            assertEquals(normalize(special.get(i)), r.out().strip(), "case " + i + " (special)");
            Result p = run("tokenize", vocab, "--file", f.toString(), "--no-parse-special");
            assertEquals(normalize(plain.get(i)), p.out().strip(), "case " + i + " (plain)");
        }
        Result noBos = run("tokenize", vocab, "<start_of_turn>user", "--no-bos");
        assertEquals(0, noBos.code(), noBos.err());
        assertEquals("105 2364", noBos.out().strip());
        assertEquals(2, run("tokenize", vocab).code()); // neither TEXT nor --file
    }

    private static String normalize(String line) {
        String s = line.strip();
        if (s.startsWith("ids:")) s = s.substring(4).strip();
        return Arrays.stream(s.split("[\\s,]+")).filter(x -> !x.isEmpty()).collect(Collectors.joining(" "));
    }

    @Test
    void logitsFileMatchesTheReference(@TempDir Path tmp) throws Exception {
        Fixtures.Reference ref = Fixtures.reference("tiny", "expected", "f32");
        Path out = tmp.resolve("logits.bin");
        String ids = IntStream.of(ref.prompt()).mapToObj(Integer::toString).collect(Collectors.joining(" "));
        Result r = run("logits", Fixtures.file("tiny/gemma3-tiny-f32.gguf").toString(), "--ids", ids, "--gen", String.valueOf(ref.nGen()),
                "--out", out.toString(), "--backend", "reference");
        assertEquals(0, r.code(), r.err());
        assertEquals(4L * (3 + ref.tokens().length) + 4L * ref.tokens().length * ref.nVocab(), Files.size(out));
        Fixtures.Reference mine = Fixtures.Reference.read(out);
        assertEquals(ref.nPrompt(), mine.nPrompt());
        assertEquals(ref.nGen(), mine.nGen());
        assertEquals(ref.nVocab(), mine.nVocab());
        assertArrayEquals(ref.tokens(), mine.tokens());
        for (int row = 0; row < ref.logits().length; row++) {
            for (int j = 0; j < ref.nVocab(); j++) {
                assertEquals(ref.logits()[row][j], mine.logits()[row][j], 1e-2, "row " + row + " logit " + j);
            }
        }
    }

    @Test
    void logitsOnTheCpuBackendMatchLlamaCppOnAQuantizedModel(@TempDir Path tmp) throws Exception {
        Fixtures.Reference ref = Fixtures.reference("tinygqa", "expected", "q4_k_m");
        Path out = tmp.resolve("logits.bin");
        String ids = IntStream.of(ref.prompt()).mapToObj(Integer::toString).collect(Collectors.joining(" "));
        Result r = run("logits", Fixtures.file("tinygqa/gemma3-tinygqa-q4_k_m.gguf").toString(), "--ids", ids, "--gen",
                String.valueOf(ref.nGen()), "--out", out.toString(), "--backend", "cpu", "--threads", "2");
        assertEquals(0, r.code(), r.err());
        Fixtures.Reference mine = Fixtures.Reference.read(out);
        assertArrayEquals(ref.tokens(), mine.tokens());
        double maxDiff = 0;
        for (int row = 0; row < ref.logits().length; row++) {
            for (int j = 0; j < ref.nVocab(); j++) maxDiff = Math.max(maxDiff, Math.abs(ref.logits()[row][j] - mine.logits()[row][j]));
        }
        // fixtures/README.md: llama.cpp and HF differ by up to 0.15 on Q4_K_M; a correct engine lands within about that
        assertTrue(maxDiff < 0.2, "max |logit difference| vs llama.cpp = " + maxDiff);
    }

    @Test
    void benchJsonParses() throws Exception {
        Result r = run("bench", Fixtures.file("tinygqa/gemma3-tinygqa-q4_k_m.gguf").toString(), "-p", "16", "-n", "4", "-r", "2",
                "--backend", "reference", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals("gemma3-tinygqa-q4_k_m.gguf", j.get("model").asText());
        assertEquals("reference", j.get("backend").asText());
        assertEquals(16, j.get("pp").get("tokens").asInt());
        assertEquals(4, j.get("tg").get("tokens").asInt());
        assertTrue(j.get("pp").get("tokens_per_second").get("mean").asDouble() > 0);
        assertTrue(j.get("tg").get("tokens_per_second").get("stddev").asDouble() >= 0);
    }

    /** bench --backend cuda on the host driver (the CUDA kernels on the CPU): launches per token counted by the driver. */
    @Test
    void benchOnTheCudaHostDriverReportsLaunchesPerToken() throws Exception {
        String saved = System.getProperty("jgemma.cuda.driver");
        System.setProperty("jgemma.cuda.driver", "host");
        try {
            Result devices = run("devices");
            assertTrue(devices.out().contains("host driver"), devices.out());
            Result r = run("bench", Fixtures.file("tinygqa/gemma3-tinygqa-q4_k_m.gguf").toString(), "-p", "4", "-n", "3", "-r", "1",
                    "--warmup", "1", "--backend", "cuda", "--json");
            org.junit.jupiter.api.Assumptions.assumeFalse(r.err().contains("CUDA host library was not built") && System.getenv("CI") == null,
                    "the CUDA host library was not built here (no g++)");
            assertEquals(0, r.code(), r.err());
            JsonNode j = new ObjectMapper().readTree(r.out());
            assertEquals("cuda", j.get("backend").asText());
            assertEquals("host", j.get("cuda_driver").asText());
            double perToken = j.get("launches_per_token").asDouble();
            // embed + 28 a layer + copy, norm, quantize, mat-vec, argmax (CudaStepReplayTest breaks it down)
            assertEquals(0, (perToken - 6) % 28, 1e-9, "launches per token " + perToken);
        } finally {
            if (saved == null) System.clearProperty("jgemma.cuda.driver");
            else System.setProperty("jgemma.cuda.driver", saved);
        }
    }

    @Test
    void runWithTheEmbeddedModelGeneratesAndSaysItIsRandom() {
        Result r = run("run", "Hello", "--num-predict", "4", "--seed", "1", "--backend", "reference", "--verbose");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("random weights"), r.err());
        assertTrue(r.err().contains("tokens/s"), r.err());
    }

    @Test
    void runOneShotGreedyIsRepeatable() {
        String model = Fixtures.file("tinygqa/gemma3-tinygqa-q4_k_m.gguf").toString();
        Result a = run("run", model, "Hi there", "-n", "6", "--temperature", "0", "--backend", "reference");
        Result b = run("run", model, "Hi there", "-n", "6", "--temperature", "0", "--backend", "reference");
        assertEquals(0, a.code(), a.err());
        assertEquals(a.out(), b.out());
    }

    @Test
    void perplexityPrintsAFinalEstimate(@TempDir Path tmp) throws Exception {
        Path text = tmp.resolve("t.txt");
        // bytes fall back to byte tokens in the tiny 1024-token vocabulary: 64 characters give ≥ 64 tokens
        Files.writeString(text, "The quick brown fox jumps over the lazy dog. ".repeat(4));
        Result r = run("perplexity", Fixtures.file("tiny/gemma3-tiny-f32.gguf").toString(), "--file", text.toString(), "-c", "16",
                "--chunks", "2", "--backend", "reference");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Final estimate: PPL = "), r.out());
    }

    @Test
    void devicesListsTheReferenceBackend() {
        Result r = run("devices");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("reference"), r.out());
    }

    @Test
    void errorsHaveExitCodes() {
        Result missing = run("tokenize", "/no/such/model.gguf", "hi");
        assertEquals(1, missing.code(), missing.err());
        assertTrue(missing.err().contains("/no/such/model.gguf"), missing.err());
        Result usage = run("logits", "x.gguf");
        assertEquals(2, usage.code()); // --ids and --out are required
        Result unknown = run("frobnicate");
        assertEquals(2, unknown.code());
        Result badBackend = run("bench", Fixtures.file("tinygqa/gemma3-tinygqa-q4_k_m.gguf").toString(), "--backend", "nosuch", "-p", "1", "-n", "1");
        assertEquals(1, badBackend.code());
        assertTrue(badBackend.err().contains("nosuch"), badBackend.err());
    }

    /** Runs with {@code ~} at {@code home}, where a fake Ollama store maps jgemmatest:tiny to the tiny fixture. */
    static Result runWithHome(Path home, String... args) {
        String saved = System.getProperty("user.home");
        System.setProperty("user.home", home.toString());
        try {
            return run(args);
        } finally {
            System.setProperty("user.home", saved);
        }
    }

    static void fakeOllamaStore(Path home) throws Exception {
        String hex = "3f0b0f2100071479f596b964f89f510f057ce397ea22f2833a0cfe029bfc2463";
        Path root = home.resolve(".ollama/models");
        Path m = root.resolve("manifests/registry.ollama.ai/library/jgemmatest/tiny");
        Files.createDirectories(m.getParent());
        Files.writeString(m, "{\"schemaVersion\":2,\"layers\":[{\"mediaType\":\"application/vnd.ollama.image.model\","
                + "\"digest\":\"sha256:" + hex + "\",\"size\":1}]}");
        Files.createDirectories(root.resolve("blobs"));
        Files.copy(Fixtures.file("tinygqa/gemma3-tinygqa-q4_k_m.gguf"), root.resolve("blobs/sha256-" + hex));
    }

    @Test
    void everyModelArgumentAcceptsAnOllamaReference(@TempDir Path home) throws Exception {
        fakeOllamaStore(home);
        String file = Fixtures.file("tinygqa/gemma3-tinygqa-q4_k_m.gguf").toString();
        Result viaRef = runWithHome(home, "run", "jgemmatest:tiny", "Hi there", "-n", "4", "--temperature", "0", "--backend", "reference");
        Result viaFile = run("run", file, "Hi there", "-n", "4", "--temperature", "0", "--backend", "reference");
        assertEquals(0, viaRef.code(), viaRef.err());
        assertEquals(viaFile.out(), viaRef.out());
        assertEquals(run("tokenize", file, "Hello").out(), runWithHome(home, "tokenize", "jgemmatest:tiny", "Hello").out());
        Result inspect = runWithHome(home, "inspect", "jgemmatest:tiny", "--no-tensors");
        assertEquals(0, inspect.code(), inspect.err());
        assertTrue(inspect.out().contains("gemma3"), inspect.out());
        Result bench = runWithHome(home, "bench", "jgemmatest:tiny", "-p", "4", "-n", "2", "-r", "1", "--backend", "reference", "--json");
        assertEquals(0, bench.code(), bench.err());
        assertTrue(bench.out().contains("\"model\":\"jgemmatest:tiny\""), bench.out());
        Result missing = runWithHome(home, "tokenize", "jgemmatest:nope", "Hello");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("jgemmatest:nope") && missing.err().contains(home.resolve(".ollama/models").toString()),
                missing.err());
    }

    @Test
    void parseSpecialTurnsEndOfTurnTextIntoOneToken() {
        String model = Fixtures.file("tinygqa/gemma3-tinygqa-q4_k_m.gguf").toString();
        Result text = run("run", model, "a <end_of_turn> b", "-n", "1", "--temperature", "0", "--backend", "reference", "--verbose");
        Result parsed = run("run", model, "a <end_of_turn> b", "-n", "1", "--temperature", "0", "--backend", "reference", "--verbose",
                "--parse-special");
        assertEquals(0, text.code(), text.err());
        assertEquals(0, parsed.code(), parsed.err());
        int asText = promptTokens(text.err()), asToken = promptTokens(parsed.err());
        // as text "<end_of_turn>" is several tokens of the 1024-token vocabulary; parsed it is one (id 106)
        assertTrue(asToken < asText - 1, asText + " vs " + asToken);
    }

    private static int promptTokens(String err) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("prompt: (\\d+) tokens").matcher(err);
        assertTrue(m.find(), err);
        return Integer.parseInt(m.group(1));
    }

    @Test
    void progressBarRedrawsOneLineInPlace() {
        StringWriter w = new StringWriter();
        Cli.ProgressBar bar = new Cli.ProgressBar(new PrintWriter(w), "loading x");
        for (long done = 0; done <= 1000; done += 5) bar.update(done, 1000);
        String s = w.toString();
        assertEquals(101, s.chars().filter(c -> c == '\r').count()); // one redraw per percent
        assertEquals(1, s.chars().filter(c -> c == '\n').count());
        assertTrue(s.endsWith("100% of 0 MiB" + System.lineSeparator()), s);
        assertTrue(!Cli.onTerminal(), "tests run without a terminal: no progress bar is drawn");
    }
}
