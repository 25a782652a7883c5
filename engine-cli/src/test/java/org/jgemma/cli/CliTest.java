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

    /**
     * bench --parallel 3: three sessions generate at once and the scheduler's mean decode batch is reported: between
     * 1 and 3 (3 when every step held all three; a loaded machine can make a session miss a step, so no tighter bound
     * here — SessionsTest checks the batching itself).
     */
    @Test
    void benchParallelReportsTheMeanDecodeBatch() throws Exception {
        Result r = run("bench", Fixtures.file("tinygqa/gemma3-tinygqa-q4_k_m.gguf").toString(), "-p", "0", "-n", "6", "-r", "1",
                "--warmup", "0", "--parallel", "3", "--backend", "cpu", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals(3, j.get("parallel").asInt());
        double batch = j.get("mean_decode_batch").asDouble();
        assertTrue(batch >= 1 && batch <= 3, "mean decode batch " + batch);
        assertTrue(j.get("tg").get("tokens_per_second").get("mean").asDouble() > 0);
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
            // embed, norm + 10 a layer + output mat-vec, argmax (CudaStepReplayTest breaks it down)
            assertEquals(0, (perToken - 4) % 10, 1e-9, "launches per token " + perToken);
            assertTrue(perToken <= 4 + 10 * 6, "launches per token " + perToken);
            JsonNode model = j.get("step_model");  // per kernel launches and bytes read, summing to the step
            assertEquals(perToken, model.get("launches").asDouble(), 1e-9, model.toString());
            long bytes = 0;
            for (JsonNode k : model.get("kernels")) {
                assertTrue(k.get("bytes_read").asLong() > 0, k.toString());
                bytes += k.get("bytes_read").asLong();
            }
            assertEquals(bytes, model.get("bytes_read").asLong());
            // at least every weight byte of the blocks and the output matrix is read once per token
            long weights = 0;
            try (var f = org.jgemma.gguf.GgufFile.open(Fixtures.file("tinygqa/gemma3-tinygqa-q4_k_m.gguf"))) {
                for (var t : f.tensors()) {
                    if (t.name().startsWith("blk.") && t.type() != org.jgemma.ggml.GgmlType.F32) weights += t.byteSize();
                }
            }
            assertTrue(bytes > weights, bytes + " bytes read per token, the block weights alone are " + weights);
        } finally {
            if (saved == null) System.clearProperty("jgemma.cuda.driver");
            else System.setProperty("jgemma.cuda.driver", saved);
        }
    }

    /**
     * bench --backend cuda, a 72-token prompt on the host driver: the layers' matmuls read each weight twice (two tiles
     * of 64 tokens), where 8-column mat-vec launches would read it 9 times; the logits' matmul (one row) once either way.
     */
    @Test
    void benchOnTheCudaHostDriverReportsThePromptsWeightReads() throws Exception {
        String saved = System.getProperty("jgemma.cuda.driver");
        System.setProperty("jgemma.cuda.driver", "host");
        try {
            Result r = run("bench", Fixtures.file("tinygqa/gemma3-tinygqa-q4_k_m.gguf").toString(), "-p", "72", "-n", "0", "-r", "1",
                    "--warmup", "0", "--backend", "cuda", "--json");
            org.junit.jupiter.api.Assumptions.assumeFalse(r.err().contains("CUDA host library was not built") && System.getenv("CI") == null,
                    "the CUDA host library was not built here (no g++)");
            assertEquals(0, r.code(), r.err());
            JsonNode j = new ObjectMapper().readTree(r.out());
            double reads = j.get("prefill_weight_reads").asDouble(), matVec = j.get("prefill_weight_reads_matvec").asDouble();
            assertTrue(reads > 1 && reads < 2, "each weight byte read between once (logits) and twice (blocks): " + reads);
            assertTrue(matVec > 2 * reads && matVec < 9, "the mat-vec alone: up to 9 times: " + matVec);
            assertTrue(j.get("prefill_launches").asLong() > 0, r.out());
        } finally {
            if (saved == null) System.clearProperty("jgemma.cuda.driver");
            else System.setProperty("jgemma.cuda.driver", saved);
        }
    }

    @Test
    void runWithTheEmbeddedModelGeneratesAndSaysItIsRandom() {
        Result r = run("run", "Hello there", "--num-predict", "4", "--seed", "1", "--backend", "reference", "--verbose");
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

    @Test
    void modelReferencesThatDoNotResolveAreErrorsNamingWhatWasSearched(@TempDir Path home) throws Exception {
        Result file = runWithHome(home, "run", "/nope/model", "hi");
        assertEquals(1, file.code());
        assertTrue(file.err().contains("/nope/model") && file.err().contains("no such file"), file.err());
        Result dir = runWithHome(home, "run", home.toString());
        assertEquals(1, dir.code());
        assertTrue(dir.err().contains("is a directory"), dir.err());
        Result name = runWithHome(home, "run", "gemma3");
        assertEquals(1, name.code());
        assertTrue(name.err().contains("gemma3") && name.err().contains(home.resolve(".ollama/models").toString())
                && name.err().contains("ollama pull gemma3"), name.err());
        assertEquals("", name.out());
    }

    @Test
    void outOfRangeOptionsAreOneLineErrors() {
        String model = Fixtures.file("tinygqa/gemma3-tinygqa-q4_k_m.gguf").toString();
        String[][] cases = {{"--top-p", "7", "--top-p must be in [0, 1], got 7"}, {"--top-k", "-3", "--top-k must be ≥ 0, got -3"},
                {"--min-p", "2", "--min-p must be in [0, 1], got 2"}, {"--ctx-size", "-5", "--ctx-size must be ≥ 0"},
                {"--threads", "1000", "--threads must be between 1 and"}, {"--temperature", "-1", "--temperature must be ≥ 0"},
                {"--repeat-penalty", "0", "--repeat-penalty must be > 0"}};
        for (String[] c : cases) {
            Result r = run("run", model, "hi", c[0], c[1], "--backend", "reference");
            assertEquals(2, r.code(), c[0] + " " + c[1] + ": " + r.err());
            assertTrue(r.err().startsWith("jgemma run: " + c[2]), r.err());
            assertEquals(2, r.err().lines().count(), r.err()); // the message and where the help is, no usage dump
        }
    }

    /** A fake Ollama store whose model has params and system layers (as server/images.go reads them). */
    static void storeWithLayers(Path home, String params, String system) throws Exception {
        Path root = home.resolve(".ollama/models");
        Files.createDirectories(root.resolve("blobs"));
        String model = "3f0b0f2100071479f596b964f89f510f057ce397ea22f2833a0cfe029bfc2463";
        Files.copy(Fixtures.file("tinygqa/gemma3-tinygqa-q4_k_m.gguf"), root.resolve("blobs/sha256-" + model));
        StringBuilder layers = new StringBuilder("{\"mediaType\":\"application/vnd.ollama.image.model\",\"digest\":\"sha256:" + model + "\"}");
        String[][] texts = {{"params", params}, {"system", system}, {"template", "{{ .Prompt }}"}, {"license", "Test license"}};
        for (String[] t : texts) {
            if (t[1] == null) continue;
            String hex = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(t[1].getBytes()));
            Files.writeString(root.resolve("blobs/sha256-" + hex), t[1]);
            layers.append(",{\"mediaType\":\"application/vnd.ollama.image.").append(t[0]).append("\",\"digest\":\"sha256:").append(hex).append("\"}");
        }
        Path m = root.resolve("manifests/registry.ollama.ai/library/jgemmatest/layers");
        Files.createDirectories(m.getParent());
        Files.writeString(m, "{\"schemaVersion\":2,\"layers\":[" + layers + "]}");
    }

    private static int generated(String err) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("generation: (\\d+) tokens").matcher(err);
        assertTrue(m.find(), err);
        return Integer.parseInt(m.group(1));
    }

    @Test
    void theOllamaParamsAndSystemLayersApplyUnderTheFlags(@TempDir Path home) throws Exception {
        // num_predict 3 and a stop string that cannot occur: the model's params decide the length...
        storeWithLayers(home, "{\"num_predict\":3,\"temperature\":0,\"stop\":[\"<end_of_turn>\"]}", "You are a test.");
        Result byParams = runWithHome(home, "run", "jgemmatest:layers", "Hi there", "--backend", "reference", "--verbose");
        assertEquals(0, byParams.code(), byParams.err());
        assertEquals(3, generated(byParams.err()));
        // ...the flags override them
        Result byFlag = runWithHome(home, "run", "jgemmatest:layers", "Hi there", "--backend", "reference", "--verbose", "-n", "5");
        assertEquals(5, generated(byFlag.err()));
        // the system layer is the system prompt (it makes the prompt longer), --system replaces it
        String file = Fixtures.file("tinygqa/gemma3-tinygqa-q4_k_m.gguf").toString();
        Result plain = run("run", file, "Hi there", "--backend", "reference", "--verbose", "-n", "1");
        Result withSystem = run("run", file, "Hi there", "--backend", "reference", "--verbose", "-n", "1", "--system", "You are a test.");
        assertTrue(promptTokens(withSystem.err()) > promptTokens(plain.err()), plain.err() + withSystem.err());
        assertEquals(promptTokens(withSystem.err()), promptTokens(byParams.err()), byParams.err());
        // temperature 0 from the params: greedy, so two runs agree
        assertEquals(byParams.out(), runWithHome(home, "run", "jgemmatest:layers", "Hi there", "--backend", "reference").out());
        Result badParams = runWithHome(home, "show", "jgemmatest:layers", "--parameters");
        assertEquals(0, badParams.code(), badParams.err());
        assertEquals("num_predict     3\nstop            \"<end_of_turn>\"\ntemperature     0\n", badParams.out().replace("\r", ""));
    }

    @Test
    void showAndListDescribeTheModels(@TempDir Path home) throws Exception {
        storeWithLayers(home, "{\"top_k\":64}", "Be brief.");
        Result show = runWithHome(home, "show", "jgemmatest:layers");
        assertEquals(0, show.code(), show.err());
        for (String s : new String[] {"architecture        gemma3", "context length", "quantization        Q4_K_M", "top_k           64",
                "Be brief.", "Test license"}) {
            assertTrue(show.out().contains(s), s + " in\n" + show.out());
        }
        assertEquals("{{ .Prompt }}\n", runWithHome(home, "show", "jgemmatest:layers", "--template").out());
        Path dir = Files.createDirectories(home.resolve("ggufs"));
        Files.copy(Fixtures.file("tinygqa/gemma3-tinygqa-q4_k_m.gguf"), dir.resolve("a.gguf"));
        Result list = runWithHome(home, "list", "--dir", dir.toString());
        assertEquals(0, list.code(), list.err());
        List<String> lines = list.out().lines().toList();
        assertTrue(lines.get(0).startsWith("NAME") && lines.get(0).contains("QUANTIZATION"), list.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("jgemmatest:layers") && l.contains("Q4_K_M")), list.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(dir.resolve("a.gguf").toString()) && l.contains("Q4_K_M")), list.out());
    }

    @Test
    void psAsksTheServerAndSaysWhenNoneRuns() throws Exception {
        com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        // the answer's shape as Ollama's docs/api.md documents GET /api/ps
        byte[] body = ("{\"models\":[{\"name\":\"gemma3:1b\",\"model\":\"gemma3:1b\",\"size\":1500000000,"
                + "\"digest\":\"8648f39daa8fbf5b18c7b4e6a8fb4990c692751d49917417b8842ca5758e7ffc\",\"details\":{},"
                + "\"expires_at\":\"2099-01-01T00:00:00Z\",\"size_vram\":0,\"context_length\":4096}]}").getBytes();
        server.createContext("/api/ps", x -> {
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
        });
        server.start();
        try {
            Result r = run("ps", "--host", "127.0.0.1:" + server.getAddress().getPort());
            assertEquals(0, r.code(), r.err());
            List<String> lines = r.out().lines().toList();
            assertTrue(lines.get(0).matches("NAME\\s+ID\\s+SIZE\\s+PROCESSOR\\s+CONTEXT\\s+UNTIL"), r.out());
            assertTrue(lines.get(1).matches("gemma3:1b\\s+8648f39daa8f\\s+1.5 GB\\s+100% CPU\\s+4096\\s+Forever"), r.out());
        } finally {
            server.stop(0);
        }
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort(); // free once closed: nothing listens there
        }
        Result none = run("ps", "--host", "http://127.0.0.1:" + port);
        assertEquals(1, none.code());
        assertTrue(none.err().contains("no server is running at http://127.0.0.1:" + port), none.err());
        assertEquals(java.net.URI.create("http://127.0.0.1:11434"), PsCommand.baseUri(null));
        assertEquals(java.net.URI.create("http://example.com:11434"), PsCommand.baseUri("example.com"));
        assertEquals(java.net.URI.create("https://example.com:443"), PsCommand.baseUri("https://example.com"));
        assertEquals(java.net.URI.create("http://127.0.0.1:8080"), PsCommand.baseUri("0.0.0.0:8080"));
    }

    @Test
    void tokenizeShowsPiecesAsLlamaTokenizeDoes() {
        String vocab = Fixtures.vocab().toString();
        Result r = run("tokenize", vocab, "<start_of_turn>user", "--no-bos", "--show-pieces");
        assertEquals(0, r.code(), r.err());
        // llama.cpp tools/tokenize/tokenize.cpp: printf("%6d -> '%s'\n", id, piece); ids as llama-tokenize gives them (above)
        assertEquals("   105 -> '<start_of_turn>'\n  2364 -> 'user'\n", r.out().replace("\r", ""));
    }

    @Test
    void aFastLoadDrawsNoProgressBar() {
        StringWriter w = new StringWriter();
        Cli.ProgressBar bar = new Cli.ProgressBar(new PrintWriter(w), "loading x", Cli.PROGRESS_AFTER_NANOS);
        for (long done = 0; done <= 1000; done += 5) bar.update(done, 1000); // all within the first second
        assertEquals("", w.toString());
    }

    @Test
    void helpIsASubcommandAndEveryOptionHasADescription() {
        Result help = run("help", "run");
        assertEquals(0, help.code(), help.err());
        assertTrue(help.out().contains("--top-p") && help.out().contains("--file"), help.out());
        picocli.CommandLine cl = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        for (String name : List.of("run", "tokenize", "logits", "bench", "inspect", "devices", "list", "show", "ps")) {
            picocli.CommandLine sub = cl.getSubcommands().get(name);
            for (picocli.CommandLine.Model.OptionSpec o : sub.getCommandSpec().options()) {
                assertTrue(o.description().length > 0 && !o.description()[0].isBlank(), sub.getCommandName() + " " + o.longestName());
            }
        }
    }
}
