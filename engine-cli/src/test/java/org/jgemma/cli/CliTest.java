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
}
