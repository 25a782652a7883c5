package org.jgemma.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.TreeSet;
import org.jgemma.backend.Buffer;
import org.jgemma.backend.BackendUnavailableException;
import org.jgemma.backend.IntBuffer;
import org.jgemma.backend.KvBuffer;
import org.jgemma.backend.TestWeights;
import org.jgemma.backend.Weight;
import org.jgemma.ggml.GgmlType;
import org.junit.jupiter.api.Test;

/**
 * Kernel arguments against the PTX .param lists, over all kernels: every op's launches (driven through a recording
 * driver, no kernels run) pack without a mismatch and reach every kernel; the compiled host kernels take exactly the
 * PTX's parameter sizes; a wrong count, order or type is refused with the kernel and the position.
 */
class KernelArgsTest {
    @Test
    void everyOpLaunchesEveryKernelWithArgumentsMatchingItsPtxParams() {
        RecordingDriver d = new RecordingDriver();
        try (CudaBackend b = new CudaBackend(d)) {
            for (GgmlType t : Kernels.WEIGHT_TYPES) {
                Weight w = b.upload(TestWeights.random("w", t, 8, 256, t.id));
                Buffer x = b.allocate(15 * 256, "x"), out = b.allocate(15 * 8, "out");
                b.matmul(w, x, 8, out);   // mat-vec: 8 columns
                b.matmul(w, x, 7, out);   // 4 + 2 + 1 columns
                b.matmul(w, x, 15, out);  // more than 8: the tiled mat-mat
                IntBuffer ids = b.allocateInts(2, "ids");
                b.embed(w, ids, 2, 1f, b.allocate(2 * 256, "e"));
            }
            Buffer x = b.allocate(4 * 4 * 128, "x"), k = b.allocate(4 * 2 * 128, "k"), v = b.allocate(4 * 2 * 128, "v");
            IntBuffer pos = b.allocateInts(4, "pos");
            KvBuffer kv = b.allocateKv(600, 2 * 128, "kv");
            b.rmsNorm(x, b.upload(TestWeights.random("n", GgmlType.F32, 1, 128, 1)), 16, 128, 1e-6f, x);
            b.rope(x, 4, 4, 128, pos, 1e4f, 1f);
            b.kvAppend(k, v, 4, pos, kv);
            b.attention(x, kv, 4, pos, 4, 2, 128, 0, 0.1f, b.allocate(4 * 4 * 128, "o"));
            b.attentionNonCausal(x, kv, 4, pos, 4, 2, 128, 0, 0.1f, 3, b.allocate(4 * 4 * 128, "onc"));  // an image chunk
            Buffer q9 = b.allocate(9 * 4 * 128, "q9");
            IntBuffer pos9 = b.allocateInts(9, "pos9");
            b.attention(q9, kv, 9, pos9, 4, 2, 128, 0, 0.1f, b.allocate(9 * 4 * 128, "o9"));  // a prompt chunk: query tiles
            b.geglu(x, x, 100, x);
            b.add(x, x, 100);
            b.softcap(x, 100, 30f);
            b.copy(x, 3, x, 200, 100);
            b.argmax(x, 2, 1000, pos);
            b.rmsNorm(x, b.upload(TestWeights.random("n100", GgmlType.F32, 1, 100, 2)), 4, 100, 1e-6f, x);  // not whole q8_1 blocks
            // the fused ops: mul_mv3 / geglu with 8, then 4 + 2 + 1 columns
            Weight q4 = b.upload(TestWeights.random("wq", GgmlType.Q4_K, 8, 256, 3)), q6 = b.upload(TestWeights.random("wv", GgmlType.Q6_K, 8, 256, 4));
            Buffer in = b.allocate(8 * 256, "in"), o1 = b.allocate(8 * 8, "o1"), o2 = b.allocate(8 * 8, "o2"), o3 = b.allocate(8 * 8, "o3");
            for (int n : new int[] {8, 7}) {
                b.matmul3(q4, q4, q6, in, n, o1, o2, o3);
                b.matmulGeglu(q4, q6, in, n, o1, o2);
            }
            Weight hn = b.upload(TestWeights.random("hn", GgmlType.F32, 1, 128, 5));
            b.qkNormRopeAppend(x, k, v, hn, hn, 4, 4, 2, 128, 1e-6f, pos, 1e4f, 1f, kv);
            Buffer a = b.allocate(4 * 128, "a"), h = b.allocate(4 * 128, "h");
            b.rmsNormAddNorm(a, hn, v, hn, 4, 128, 1e-6f, h);
        }
        Map<String, KernelArgs.Signature> sigs = Ptx.signatures();
        TreeSet<String> launched = new TreeSet<>();
        for (RecordingDriver.Launched l : d.launches) {
            launched.add(l.kernel());
            assertEquals(sigs.get(l.kernel()).bytes(), l.params().bytes().length, l.kernel());
        }
        assertEquals(new TreeSet<>(Kernels.names()), launched, "every kernel is launched by some op");
        assertEquals(new TreeSet<>(sigs.keySet()), launched, "and every PTX entry is a kernel the ops launch");
    }

    @Test
    void theHostBuildOfEveryKernelTakesThePtxParameterSizes() {
        HostLibrary lib;
        try {
            lib = HostLibrary.get();
        } catch (BackendUnavailableException e) {
            CudaTestSupport.host();  // skips, or fails under CI, with the reason
            return;
        }
        for (var e : Ptx.signatures().entrySet()) {
            long[] host = lib.paramSizes.get(e.getKey());
            assertTrue(host != null, "kernel " + e.getKey() + " missing from the host library");
            assertArrayEquals(e.getValue().sizes(), host, "parameter sizes of " + e.getKey() + " (PTX vs g++ build)");
        }
        assertEquals(Ptx.signatures().keySet(), lib.index.keySet());
    }

    @Test
    void wrongCountTypeOrOrderIsRefusedNamingKernelAndPosition() {
        KernelArgs.Signature rms = Ptx.signatures().get("rms_norm_f32");
        assertEquals("[u64, u64, u32, f32, u64]", rms.params().stream().map(KernelArgs.Param::type).toList().toString());
        assertEquals(32, rms.bytes());
        DevPtr p = new DevPtr(4096);
        KernelArgs.Packed ok = KernelArgs.pack(rms, p, p, 128, 1e-6f, p);
        assertArrayEquals(new int[] {0, 8, 16, 20, 24}, ok.offsets());
        var count = assertThrows(IllegalArgumentException.class, () -> KernelArgs.pack(rms, p, p, 128, 1e-6f));
        assertEquals("kernel rms_norm_f32 takes 5 parameters (PTX .param list), 4 given", count.getMessage());
        var order = assertThrows(IllegalArgumentException.class, () -> KernelArgs.pack(rms, p, p, 1e-6f, 128, p));
        assertTrue(order.getMessage().startsWith("kernel rms_norm_f32: argument 2 is Float"), order.getMessage());
        var widened = assertThrows(IllegalArgumentException.class, () -> KernelArgs.pack(rms, p, p, 128L, 1e-6f, p));
        assertTrue(widened.getMessage().contains("argument 2 is Long 128, the PTX .param 2 is .u32"), widened.getMessage());
        var ptr = assertThrows(IllegalArgumentException.class, () -> KernelArgs.pack(rms, p, 7, 128, 1e-6f, p));
        assertTrue(ptr.getMessage().contains("argument 1 is Integer 7, the PTX .param 1 is .u64"), ptr.getMessage());
        // a long long parameter (element counts of the element-wise kernels) takes a Long, not an int
        var n = assertThrows(IllegalArgumentException.class, () -> KernelArgs.pack(Ptx.signatures().get("add_f32"), p, p, 100));
        assertTrue(n.getMessage().contains("argument 2 is Integer 100"), n.getMessage());
    }

    @Test
    void ptxSignaturesParseAlignedByteArrays() {
        var s = Ptx.signatures(".visible .entry k(\n\t.param .u64 k_param_0,\n\t.param .align 8 .b8 k_param_1[16],\n\t.param .f32 k_param_2\n)");
        assertEquals("[u64, b8[16], f32]", s.get("k").params().stream().map(KernelArgs.Param::type).toList().toString());
    }
}
