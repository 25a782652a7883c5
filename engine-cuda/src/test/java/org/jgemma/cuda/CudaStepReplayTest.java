package org.jgemma.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jgemma.backend.Buffer;
import org.jgemma.gguf.GgufFile;
import org.jgemma.model.Gemma3Model;
import org.junit.jupiter.api.Test;

/**
 * Recorded steps on the host driver: a replayed graph must give exactly what the same step gives run eagerly (same
 * kernels, same inputs: bit for bit), a value baked into a recording shows up as a wrong result, and the number of
 * kernel launches a decode token costs (the figure the next CUDA issue drives down).
 */
class CudaStepReplayTest {
    static int argmax(float[] x) {
        int b = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[b]) b = i;
        return b;
    }

    /**
     * The recorded side runs the fused ops (no debug hook: Backend#qkNormRopeAppend, #rmsNormAddNorm, #matmulGeglu, the
     * q8_1 folded into the norms), the eager side the composed plain ops (a hook makes the model dump every intermediate):
     * so this also shows the fused kernels compute exactly what the composed ones do.
     */
    @Test
    void replayedDecodeStepsEqualEagerStepsOver50Tokens() {
        GgufFile f = TinyVariants.of("q4_k_m", 6, 1024);
        try (CudaBackend recorded = CudaTestSupport.host(); CudaBackend eager = CudaTestSupport.host()) {
            int[] prompt = {2, 105, 236, 107, 818, 122, 532};
            int ctx = prompt.length + 51;
            Gemma3Model mr = Gemma3Model.load(f, recorded, ctx), me = Gemma3Model.load(f, eager, ctx);
            Gemma3Model.Session sr = mr.newSession(), se = me.newSession();
            se.setDebugHook((name, layer, buf, rows, cols) -> {});  // a hook makes every step run eagerly
            float[] lr = sr.forward(prompt, false), le = se.forward(prompt, false);
            assertArrayEquals(le, lr, 0f, "prompt");
            long afterPrompt = recorded.kernelLaunches();
            int next = argmax(le);
            for (int i = 0; i < 50; i++) {
                lr = sr.forward(new int[] {next}, false);
                le = se.forward(new int[] {next}, false);
                assertArrayEquals(le, lr, 0f, "decode step " + i + " (position " + (prompt.length + i) + ")");
                next = argmax(le);
            }
            assertEquals(1, recorded.graphCount(), "the decode step is recorded once and replayed");
            assertEquals(0, eager.graphCount());
            // the eager first decode step and every replay run the recorded step's launches
            assertEquals(50L * recorded.recordedSteps().getFirst().size(), recorded.kernelLaunches() - afterPrompt);
            assertTrue(eager.kernelLaunches() > recorded.kernelLaunches(), "the composed ops take more launches than the fused");
        }
    }

    /** Launches per decode token of a model with gemma3 1B's 26 layers, counted by the host driver, broken down. */
    @Test
    void launchesPerDecodeTokenOfThe1BShape() {
        GgufFile f = TinyVariants.of("q4_k_m", 26, 1024);
        try (CudaBackend b = CudaTestSupport.host()) {
            Gemma3Model m = Gemma3Model.load(f, b, 16);
            Gemma3Model.Session s = m.newSession();
            int next = argmax(s.forward(new int[] {2, 105, 236}, false));
            for (int i = 0; i < 2; i++) next = argmax(s.forward(new int[] {next}, false));  // eager, then recorded
            long before = b.kernelLaunches();
            int tokens = 4;
            for (int i = 0; i < tokens; i++) next = argmax(s.forward(new int[] {next}, false));
            long perToken = (b.kernelLaunches() - before) / tokens;
            assertEquals(1, b.graphCount());
            List<String> graph = b.recordedSteps().getFirst();
            assertEquals(perToken, graph.size(), "launches per token = kernels of the recorded decode step");
            int before0 = 2, perLayerCount = 10;  // embed, the first block's input norm (+ its q8_1)
            Map<String, Integer> perLayer = breakdown(graph.subList(before0, before0 + perLayerCount));
            System.out.println("cuda launches per decode token, 26 layers (gemma3 1B shape): " + perToken
                    + " = " + before0 + " (embed, norm) + 26 x " + perLayerCount + " (layer) + "
                    + (perToken - before0 - 26 * perLayerCount) + " (logits); per layer: " + perLayer
                    + "; after the layers: " + breakdown(graph.subList(before0 + 26 * perLayerCount, graph.size())));
            // per layer (734 launches before the fusion of issue 13, 28 a layer): Q/K/V mat-vec (one launch, the input's
            // q8_1 made by the norm before), Q/K norm + RoPE + KV append, attention split + combine (+ q8_1), O mat-vec,
            // post-norm + add + FFN norm (+ q8_1), gate/up mat-vec with GELU·up, quantize + down mat-vec, post-norm +
            // add + next block's norm (+ q8_1)
            Map<String, Integer> kinds = new LinkedHashMap<>();  // the plain mat-vecs whatever their weight type
            perLayer.forEach((k, v) -> kinds.merge(k.replaceAll("^mul_mv_[a-z0-9_]+_f32$", "mul_mv (O, down)"), v, Integer::sum));
            assertEquals(Map.of("mul_mv3_q", 1, "qk_norm_rope_kv_f32", 1, "flash_attn_split_f16", 1, "flash_attn_combine_q8_f32", 1,
                    "mul_mv (O, down)", 2, "rms_norm_add_norm_q8_f32", 2, "mul_mv_geglu_q", 1, "quantize_q8_1", 1), kinds);
            for (int il = 0; il < 26; il++) {
                assertEquals(perLayerCount, breakdown(graph.subList(before0 + il * perLayerCount, before0 + (il + 1) * perLayerCount))
                        .values().stream().mapToInt(Integer::intValue).sum());
            }
            assertEquals(before0 + 26 * perLayerCount + 2, perToken, "embed, norm + layers + output mat-vec, argmax");
        }
    }

    private static Map<String, Integer> breakdown(List<String> kernels) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (String k : kernels) m.merge(k.replaceAll("_nc\\d+$", ""), 1, Integer::sum);
        return m;
    }

    /** A step that bakes a host value into a launch (here a copy offset) replays that value: caught as a wrong result. */
    @Test
    void aValueBakedIntoARecordingShowsUpOnReplay() {
        try (CudaBackend b = CudaTestSupport.host()) {
            Buffer src = b.allocate(8, "src"), dst = b.allocate(1, "dst");
            b.write(src, 0, new float[] {10, 11, 12, 13, 14, 15, 16, 17}, 0, 8);
            float[] got = new float[1];
            List<Float> seen = new ArrayList<>();
            for (int step = 0; step < 5; step++) {
                int offset = step;  // should have been read from device memory by the kernel
                b.runStep("baked", () -> b.copy(src, offset, dst, 0, 1));
                b.read(dst, 0, got, 0, 1);
                seen.add(got[0]);
            }
            // run eagerly the first time, recorded the second (offset 1), replayed after: 11 again instead of 12, 13, 14
            assertEquals(List.of(10f, 11f, 11f, 11f, 11f), seen);
        }
    }

    /** Freeing what a recorded step reads without forgetting the step: its next replay is refused, naming the argument. */
    @Test
    void aReplayReadingFreedMemoryIsRefusedAndForgetStepReleasesTheGraph() {
        try (CudaBackend b = CudaTestSupport.host()) {
            Buffer x = b.allocate(4, "x"), y = b.allocate(4, "y");
            long held = b.allocatedBytes();
            for (int i = 0; i < 2; i++) b.runStep("s", () -> b.add(y, x, 4));
            assertEquals(1, b.graphCount());
            b.free(x);
            b.free(x);  // a second free does nothing
            assertEquals(held - 16, b.allocatedBytes());
            var e = assertThrows(Cu.CallException.class, () -> b.runStep("s", () -> b.add(y, x, 4)));
            assertTrue(e.getMessage().contains("add_f32") && e.getMessage().contains("argument 1")
                    && e.getMessage().contains("no live allocation"), e.getMessage());
            b.forgetStep("s");
            assertEquals(0, b.graphCount());
            b.free(y);
            assertEquals(held - 32, b.allocatedBytes());
        }
    }

    /** Prompt chunks of distinct lengths run eagerly and do not pile up graphs; at most MAX_GRAPHS are kept. */
    @Test
    void stepsSeenOnceAreNotRecordedAndGraphsAreBounded() {
        try (CudaBackend b = CudaTestSupport.host()) {
            Buffer x = b.allocate(4, "x"), y = b.allocate(4, "y");
            for (int len = 1; len <= 40; len++) {
                int l = len;
                b.runStep(List.of("prompt chunk", l), () -> b.add(y, x, 1 + l % 4));
            }
            assertEquals(0, b.graphCount(), "a chunk length seen once is run, not recorded");
            for (int k = 0; k < 3 * CudaBackend.MAX_GRAPHS; k++) {
                for (int rep = 0; rep < 2; rep++) b.runStep("step " + k, () -> b.add(y, x, 4));
            }
            assertEquals(CudaBackend.MAX_GRAPHS, b.graphCount());
            assertNull(b.recordedKernels("step 0"), "least recently used graphs are destroyed");
            assertNotNull(b.recordedKernels("step " + (3 * CudaBackend.MAX_GRAPHS - 1)));
        }
    }

    /** newSession (buffers allocated and zeroed) on another thread while a step is being recorded waits for the capture. */
    @Test
    void allocationDuringACaptureOnAnotherThreadWaitsInsteadOfLandingInIt() throws Exception {
        ExecutorService other = Executors.newSingleThreadExecutor();
        try (CudaBackend b = CudaTestSupport.host()) {
            Buffer x = b.allocate(4, "x"), y = b.allocate(4, "y");
            b.write(x, 0, new float[] {1, 2, 3, 4}, 0, 4);
            b.runStep("s", () -> b.add(y, x, 4));  // first run: eager
            CountDownLatch inCapture = new CountDownLatch(1);
            Future<float[]>[] allocated = new Future[1];
            b.runStep("s", () -> {
                b.add(y, x, 4);
                inCapture.countDown();
                allocated[0] = other.submit(() -> {
                    Buffer z = b.allocate(4, "new session buffer");
                    float[] r = new float[4];
                    b.read(z, 0, r, 0, 4);
                    return r;
                });
                try {
                    Thread.sleep(200);  // the other thread is blocked on the backend's lock meanwhile
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
                assertTrue(!allocated[0].isDone(), "the allocation must wait for the capture to end");
            });
            assertArrayEquals(new float[4], allocated[0].get(10, TimeUnit.SECONDS), 0f);
            assertEquals(List.of("add_f32"), b.recordedKernels("s"), "the zero fill of the new buffer is not in the graph");
            float[] r = new float[4];
            b.read(y, 0, r, 0, 4);
            assertArrayEquals(new float[] {2, 4, 6, 8}, r, 0f);
        } finally {
            other.shutdownNow();
        }
    }

    /** Two backends alternating on one thread: each makes its own context current (the cached-thread bug failed here). */
    @Test
    void twoBackendsOnOneThreadEachMakeTheirContextCurrent() throws Exception {
        try (CudaBackend a = CudaTestSupport.host(); CudaBackend c = CudaTestSupport.host()) {
            Buffer xa = a.allocate(2, "a"), xc = c.allocate(2, "c");
            for (int i = 0; i < 3; i++) {
                a.write(xa, 0, new float[] {i, i}, 0, 2);
                c.write(xc, 0, new float[] {-i, -i}, 0, 2);
                a.add(xa, xa, 2);
            }
            float[] r = new float[2];
            a.read(xa, 0, r, 0, 2);
            assertArrayEquals(new float[] {4, 4}, r, 0f);
            Thread t = new Thread(() -> c.add(xc, xc, 2));  // and from another thread
            t.start();
            t.join();
            c.read(xc, 0, r, 0, 2);
            assertArrayEquals(new float[] {-4, -4}, r, 0f);
            // the host driver refuses a call without its context current, as CUDA does
            HostDriver d = new HostDriver();
            a.read(xa, 0, r, 0, 2);  // makes a's context current again
            var e = assertThrows(Cu.CallException.class, () -> d.alloc(16, "probe"));
            assertTrue(e.getMessage().contains("CUDA_ERROR_INVALID_CONTEXT"), e.getMessage());
            d.makeCurrent();
            d.close();
        }
    }
}
