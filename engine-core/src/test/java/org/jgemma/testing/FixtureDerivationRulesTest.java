package org.jgemma.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.lang.foreign.MemorySegment;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufTensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The derivation's type-selection rule reproduces llama-quantize's choices in every original fixture file. */
class FixtureDerivationRulesTest {

    @ParameterizedTest
    @CsvSource({"tiny,q8_0", "tiny,q4_0", "tiny,q4_k_m", "tiny,q5_k_m", "tiny,q6_k", "tiny,f16", "tiny,bf16",
            "tinygqa,q8_0", "tinygqa,q4_k_m", "tinymix,q4_k_m", "tinymix,q4_1", "tinymix,q5_1"})
    void typeRuleMatchesLlamaQuantize(String model, String fmt) {
        FormatRefs.FileRef ref = FormatRefs.of(model, fmt);
        FixtureDerivation.Target tg = FixtureDerivation.Target.of(fmt);
        for (FormatRefs.TensorRef r : ref.tensors()) {
            // as the F32 source holds it: same name and shape, type F32
            GgufTensorInfo src = new GgufTensorInfo(r.name(), GgmlType.F32, r.ne(), 0, 0, 0, MemorySegment.NULL);
            assertEquals(r.type(), FixtureDerivation.typeFor(tg, src, 6).name(), model + "/" + fmt + " " + r.name());
        }
    }

    @Test
    void aWrongFileIsReportedTensorByTensor() throws Exception {
        try (GgufFile f = GgufFile.open(Fixtures.model("tiny", "q8_0"))) {
            var d = FixtureVerifier.differences(f, FormatRefs.of("tiny", "q4_0"));
            assertFalse(d.isEmpty());
            assertEquals(true, d.stream().anyMatch(s -> s.contains("token_embd.weight: Q8_0")), d.toString());
        }
    }
}
