package org.jgemma.backend;

import org.jgemma.testing.DeterminismProbe;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.Test;

/**
 * The reference backend's reductions are plain scalar loops in index order (Java never reorders float additions), so
 * 20 greedy runs in one fresh JVM, cold and C2-compiled, give bit-identical logits.
 */
class ReferenceDeterminismTest {
    @Test
    void twentyGreedyRunsInOneJvmAreIdentical() throws Exception {
        DeterminismProbe.check("reference", Fixtures.model("tinymix", "q4_k_m"));
    }
}
