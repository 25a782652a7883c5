package org.jgemma.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The committed PTX, without a GPU: every module loads from the class path, targets compute_80, every kernel the host
 * launches is an entry of exactly one module, and each .cu source has its PTX (the Maven build additionally recompiles
 * them with nvcc, when present, and compares: build-ptx.sh).
 */
class PtxTest {
    @Test
    void everyLaunchedKernelIsInTheCommittedPtx() {
        Map<String, String> entries = Ptx.entries();
        for (String name : Kernels.names()) assertTrue(entries.containsKey(name), () -> "no PTX entry for kernel " + name);
        assertEquals(20 + 2 * 4 + 13 * 5, Kernels.names().size(), "15 op kernels + 5 prefill kernels (mat-mat q, q2_k, f;"
                + " query-tile attention and its combine) + the 2 fused mat-vecs x 4 widths + (get_rows + 4 mat-vec widths) x 13 weight types");
    }

    @Test
    void modulesTargetCompute80AndStaySmall() {
        long total = 0;
        for (String m : Ptx.modules()) {
            byte[] image = Ptx.image(m);
            assertEquals(0, image[image.length - 1], "NUL-terminated for cuModuleLoadData");
            String text = new String(image, 0, image.length - 1, StandardCharsets.US_ASCII);
            assertTrue(text.contains(".target sm_80"), () -> m + ".ptx does not target sm_80");
            assertTrue(text.contains(".address_size 64"), () -> m + ".ptx is not 64-bit");
            total += image.length;
        }
        // the fused mat-vecs (mul_mv_fused.ptx: a switch over the 10 block types in each of 4 widths) take 0.8 MB of it
        assertTrue(total < 2_000_000, "PTX total " + total + " bytes");
    }

    @Test
    void everyCudaSourceHasItsPtxAndNoMore() throws IOException {
        Path src = Path.of("src/main/cuda");
        if (!Files.isDirectory(src)) src = Path.of("engine-cuda/src/main/cuda");
        TreeSet<String> sources = new TreeSet<>();
        try (Stream<Path> s = Files.list(src)) {
            s.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".cu")).forEach(f -> sources.add(f.substring(0, f.length() - 3)));
        }
        assertEquals(sources, new TreeSet<>(Ptx.modules()), "src/main/cuda/*.cu vs resources org/jgemma/cuda/ptx/index.txt");
    }

    @Test
    void kernelNamesFollowTheTypes() {
        assertEquals("mul_mv_q4_k_f32_nc8", Kernels.mulMv(org.jgemma.ggml.GgmlType.Q4_K, 8));
        assertEquals("get_rows_bf16", Kernels.getRows(org.jgemma.ggml.GgmlType.BF16));
        assertTrue(Kernels.quantized(org.jgemma.ggml.GgmlType.Q5_0));
        assertTrue(!Kernels.quantized(org.jgemma.ggml.GgmlType.F16));
        assertEquals(List.of(8, 4, 2, 1), java.util.Arrays.stream(Launch.MV_COLUMNS).boxed().toList());
    }
}
