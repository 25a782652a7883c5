package org.jgemma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jgemma inspect} run in-process. Expected values come from gguf-py's GGUFReader on the same file
 * (tools/compare-inspect.sh makes the full comparison on every fixture).
 */
class InspectCommandTest {
    static final String TINYGQA = "tinygqa/gemma3-tinygqa-q4_k_m.gguf";

    @TempDir
    Path tmp;

    record Result(int exit, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void textListsEveryKeyAndTensorWithTheOffsetsGgufPyReports() {
        Path f = Fixtures.file(TINYGQA);
        Result r = run("inspect", f.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err());
        List<String> lines = r.out().lines().toList();
        // GGUFReader: 35 fields (32 keys + the 3 header pseudo-keys), 80 tensors
        assertTrue(lines.contains("* Dumping 35 key/value pair(s)"), r.out());
        assertTrue(lines.contains("* Dumping 80 tensor(s)"), r.out());
        assertTrue(lines.contains("     1: UINT32     |        1 | GGUF.version = 3"), r.out());
        assertTrue(r.out().contains("| gemma3.attention.head_count_kv = 2\n"));
        assertTrue(r.out().contains("| gemma3.attention.sliding_window = 16\n"));
        assertTrue(r.out().contains("FLOAT32    |        1 | gemma3.attention.layer_norm_rms_epsilon = 1.0E-6\n"));
        // tensor rows: index, type, ne, absolute data offset (GGUFReader data_offset), n_bytes
        assertTrue(lines.contains(row(1, "F32", "256", 30016, 1024, "output_norm.weight")), r.out());
        assertTrue(lines.contains(row(2, "Q6_K", "256, 1024", 31040, 215040, "token_embd.weight")), r.out());
        assertTrue(lines.contains(row(3, "Q4_K", "256, 128", 246080, 18432, "blk.0.attn_k.weight")), r.out());
        assertTrue(lines.contains(row(80, "F32", "256", 1650496, 1024, "blk.5.post_ffw_norm.weight")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.contains("tokenizer.ggml.tokens = [\"<pad>\", \"<eos>\", \"<bos>\"")
                && l.endsWith("... (1024 elements)]")), "abbreviated vocabulary");
    }

    static String row(int i, String type, String shape, long offset, long bytes, String name) {
        return String.format("%6d: | %-8s | %-24s | %14d | %12d | %s", i, type, shape, offset, bytes, name);
    }

    @Test
    void jsonHasFullArraysAndExactFloats() throws IOException {
        Result r = run("inspect", "--json", Fixtures.file(TINYGQA).toString());
        assertEquals(0, r.exit(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals(3, j.get("version").asInt());
        assertEquals(1024, j.at("/metadata/tokenizer.ggml.tokens/value").size());
        assertEquals("STRING", j.at("/metadata/tokenizer.ggml.tokens/array_type").asText());
        assertEquals(9.999999974752427e-07, j.at("/metadata/gemma3.attention.layer_norm_rms_epsilon/value").asDouble(), 0.0);
        assertEquals(15, j.at("/metadata/general.file_type/value").asInt());
        JsonNode t = j.get("tensors");
        assertEquals(80, t.size());
        assertEquals("blk.0.attn_k.weight", t.get(2).get("name").asText());
        assertEquals("Q4_K", t.get(2).get("type").asText());
        assertEquals("[256,128]", t.get(2).get("shape").toString());
        assertEquals(246080, t.get(2).get("offset").asLong());
        assertEquals(18432, t.get(2).get("bytes").asLong());
    }

    @Test
    void missingFileIsOneLineOnStderr() {
        Result r = run("inspect", tmp.resolve("nope.gguf").toString());
        assertEquals(1, r.exit());
        assertEquals("", r.out());
        // one line naming the path and that it is neither a file nor an Ollama model (ModelReference)
        assertEquals(List.of("jgemma inspect: " + tmp.resolve("nope.gguf") + ": no such file (and not an Ollama model name)"),
                r.err().lines().toList());
    }

    @Test
    void malformedFileIsOneLineNamingTheProblemAndOffset() throws IOException {
        Path bad = tmp.resolve("bad.gguf");
        byte[] b = Files.readAllBytes(Fixtures.file(TINYGQA));
        Files.write(bad, java.util.Arrays.copyOf(b, 20_000)); // cut inside the vocabulary array
        Result r = run("inspect", bad.toString());
        assertEquals(1, r.exit());
        List<String> err = r.err().lines().toList();
        assertEquals(1, err.size(), r.err());
        assertTrue(err.getFirst().startsWith("jgemma inspect: bad.gguf: truncated file: "), err.getFirst());
        assertTrue(err.getFirst().matches(".*\\(at file offset \\d+\\)"), err.getFirst());
        assertFalse(r.err().contains("\tat "), "no stack trace without --verbose");
    }

    @Test
    void verboseAddsTheStackTrace() throws IOException {
        Path bad = tmp.resolve("bad.gguf");
        Files.write(bad, "not a gguf file".getBytes());
        Result r = run("inspect", "--verbose", bad.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().startsWith("jgemma inspect: bad.gguf: bad magic"), r.err());
        assertTrue(r.err().contains("\tat org.jgemma.gguf."), r.err());
    }

    @Test
    void helpAndVersion() {
        Result h = run("--help");
        assertEquals(0, h.exit());
        assertTrue(h.out().contains("Usage: jgemma"));
        assertTrue(h.out().contains("inspect"));
        Result v = run("--version");
        assertEquals(0, v.exit());
        assertTrue(v.out().startsWith("jgemma "), v.out());
    }

    @Test
    void badCommandLineExitsWithTwo() {
        assertEquals(2, run("inspect").exit());
        assertEquals(2, run("no-such-command").exit());
        assertEquals(2, run().exit());
    }
}
