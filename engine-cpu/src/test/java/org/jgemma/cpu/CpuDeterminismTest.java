package org.jgemma.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The same greedy generation gives the same logits, bit for bit, on its first (cold: interpreter and C1) and its later
 * (C2-compiled) runs in one JVM. {@code reduceLanes(ADD)} on floats has an unspecified order that differs between the
 * Java fallback and C2, which switched a real model's token at step 17 or 18 depending on warm-up; every float
 * reduction now has a fixed order ({@link Lanes}). Run in a fresh JVM, so the first run is really cold.
 */
class CpuDeterminismTest {
    @ParameterizedTest
    @ValueSource(strings = {"tiny:f32", "tinymix:q4_k_m"})
    void twentyGreedyRunsInOneJvmAreIdentical(String modelFmt) throws Exception {
        String[] mf = modelFmt.split(":");
        Path model = Fixtures.model(mf[0], mf[1]);
        List<String> lines = probe(model, 20, 16);
        assertEquals(20, lines.size(), String.join("\n", lines));
        for (String l : lines) {
            assertEquals(lines.getFirst().replaceFirst("^run \\d+", ""), l.replaceFirst("^run \\d+", ""),
                    "run differs from the first (cold) run:\n" + String.join("\n", lines));
        }
    }

    static List<String> probe(Path model, int runs, int steps) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                DeterminismProbe.class.getName(), model.toString(), Integer.toString(runs), Integer.toString(steps)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "probe hung");
        assertEquals(0, p.exitValue(), out);
        return out.lines().filter(l -> l.startsWith("run ")).toList();
    }
}
