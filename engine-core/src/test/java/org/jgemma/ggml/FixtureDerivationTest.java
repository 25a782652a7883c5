package org.jgemma.ggml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.jgemma.gguf.GgufFile;
import org.jgemma.testing.FixtureVerifier;
import org.jgemma.testing.Fixtures;
import org.jgemma.testing.FormatRefs;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fixture files derived from the committed tiny F32 (Fixtures.model) are byte-identical to the originals
 * llama.cpp made: whole-file SHA-256 equal to SHA256SUMS (checked inside Fixtures.model), and every key and tensor
 * equal to the committed manifest of the original. This is the bit-exact proof of the reference quantizers
 * (Q8_0, Q4_0, Q4_K, Q5_K, Q6_K) and of the F16/BF16 rounding against llama.cpp.
 */
class FixtureDerivationTest {

    @ParameterizedTest
    @ValueSource(strings = {"f16", "bf16", "q8_0", "q4_0", "q4_k_m", "q5_k_m", "q6_k"})
    void derivedTinyFileIsTheOriginal(String fmt) throws Exception {
        Path p = Fixtures.model("tiny", fmt);
        assertEquals(Fixtures.sha256Sums().get(Fixtures.relPath("tiny", fmt)), Fixtures.sha256(p), fmt + " file hash");
        try (GgufFile f = GgufFile.open(p)) {
            List<String> d = FixtureVerifier.differences(f, FormatRefs.of("tiny", fmt));
            assertTrue(d.isEmpty(), () -> fmt + ": " + d);
        }
    }
}
