package org.jgemma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** quantize, perplexity with KL divergence and compare, end to end on the tiny fixtures (bounded time). */
class QuantizeCompareCliTest {
    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    static Path text() throws Exception {
        Path p = Files.createTempFile("kld-text", ".txt");
        try (var in = QuantizeCompareCliTest.class.getResourceAsStream("/kld/text.txt")) {
            Files.write(p, in.readAllBytes());
        }
        p.toFile().deleteOnExit();
        return p;
    }

    @Test
    void quantizeWritesLlamaQuantizesFile(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("q.gguf");
        Result r = run("quantize", Fixtures.model("tiny", "f32").toString(), out.toString(), "q4_k_m", "-t", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Q4_K_M") && r.out().contains("bits per weight"), r.out());
        assertEquals(Fixtures.sha256Sums().get("tiny/gemma3-tiny-q4_k_m.gguf"), Fixtures.sha256(out), "llama-quantize's file");
        Result bad = run("quantize", Fixtures.model("tiny", "f32").toString(), out.toString(), "Q4_K_X");
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("unknown quantization type 'Q4_K_X'"), bad.err());
        Result requant = run("quantize", Fixtures.model("tiny", "q8_0").toString(), tmp.resolve("r.gguf").toString(), "Q4_0");
        assertEquals(1, requant.code());
        assertTrue(requant.err().contains("--allow-requantize"), requant.err());
        Result missing = run("quantize", tmp.resolve("nope.gguf").toString(), out.toString(), "Q8_0");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("nope.gguf"), missing.err());
    }

    @Test
    void klDivergenceOfAModelFromItselfIsZeroAndGrowsWithFewerBits(@TempDir Path tmp) throws Exception {
        Path base = tmp.resolve("base.kld"), txt = text();
        String f32 = Fixtures.model("tiny", "f32").toString();
        Result r = run("perplexity", f32, "-f", txt.toString(), "-c", "128", "--kl-divergence-base", base.toString(), "--backend", "cpu");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Final estimate: PPL = "), r.out());
        Result self = run("perplexity", f32, "--kl-divergence", "--kl-divergence-base", base.toString(), "--backend", "cpu");
        assertEquals(0, self.code(), self.err());
        assertTrue(Math.abs(meanKld(self.out())) < 1e-5 && self.out().contains("Same top p: 100.000"), self.out());
        Result q8 = run("perplexity", Fixtures.model("tiny", "q8_0").toString(), "--kl-divergence", "--kl-divergence-base",
                base.toString(), "--backend", "cpu");
        Result q4 = run("perplexity", Fixtures.model("tiny", "q4_0").toString(), "--kl-divergence", "--kl-divergence-base",
                base.toString(), "--backend", "cpu");
        assertEquals(0, q8.code(), q8.err());
        double k8 = meanKld(q8.out()), k4 = meanKld(q4.out());
        assertTrue(k8 > 0 && k4 > 3 * k8, "KLD Q8_0 " + k8 + " < Q4_0 " + k4);
        Result noBase = run("perplexity", f32, "--kl-divergence");
        assertEquals(1, noBase.code());
        assertTrue(noBase.err().contains("--kl-divergence-base"), noBase.err());
        Files.writeString(tmp.resolve("junk.kld"), "not a base file");
        Result junk = run("perplexity", f32, "--kl-divergence", "--kl-divergence-base", tmp.resolve("junk.kld").toString());
        assertEquals(1, junk.code());
        assertTrue(junk.err().contains("_logits_"), junk.err());
    }

    static double meanKld(String out) {
        for (String line : out.split("\n")) {
            if (line.startsWith("Mean    KLD:")) return Double.parseDouble(line.substring(12).trim().split("\\s+")[0]);
        }
        throw new AssertionError("no KLD line in " + out);
    }

    @Test
    void compareWritesTableJsonAndChart(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("cmp");
        Result r = run("compare", Fixtures.model("tiny", "f32").toString(), "--types", "Q8_0,Q2_K", "-f", text().toString(),
                "-c", "64", "--chunks", "2", "--backends", "cpu", "--quality-backend", "cpu", "-p", "8", "-n", "4", "-r", "1",
                "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("| F32 |") && r.out().contains("| Q8_0 |") && r.out().contains("| Q2_K |"), r.out());
        assertTrue(r.err().contains("[1/") || r.err().contains("#"), "progress on stderr: " + r.err());
        JsonNode j = new ObjectMapper().readTree(out.resolve("compare.json").toFile());
        assertEquals(3, j.get("files").size());
        assertEquals("F32", j.get("files").get(0).get("type").asText(), "the base (most bits per weight) first");
        JsonNode q2 = j.get("files").get(2);
        assertEquals("Q2_K", q2.get("type").asText());
        assertTrue(q2.get("kld_mean").asDouble() > j.get("files").get(1).get("kld_mean").asDouble(), "Q2_K loses more than Q8_0");
        assertTrue(q2.get("tokens_per_second").get("cpu").get("tg").asDouble() > 0);
        var img = javax.imageio.ImageIO.read(out.resolve("compare.png").toFile());
        assertNotNull(img, "compare.png is a PNG");
        assertEquals(800, img.getWidth());
    }
}
