package org.jgemma.cpu;

import java.nio.file.Path;
import org.jgemma.testing.DeterminismProbe;
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
        DeterminismProbe.check("cpu", model);
    }
}
