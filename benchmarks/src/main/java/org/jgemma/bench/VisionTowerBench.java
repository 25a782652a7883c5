package org.jgemma.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufValue;
import org.jgemma.gguf.GgufWriter;
import org.jgemma.vision.VisionModel;

/**
 * Seconds per image through the Gemma 3 vision tower (not a JMH benchmark: one image is minutes of work on the plain path).
 * <pre>
 *   make OUT.gguf [LAYERS]   writes a synthetic mmproj of the real 4B/12B/27B shape (SigLIP so400m: width 1152, 16 heads,
 *                            MLP 4304, 896 px / patch 14 = 4096 patches, pooled 4x4 to 256 tokens, projected to 2560),
 *                            LAYERS blocks (default 27), random seeded weights: matrices F16 as in mmproj-model-f16.gguf,
 *                            norms and biases F32
 *   run FILE [ROUNDS] [reference]   encodes one seeded random image ROUNDS times (default 3) with VisionModel.encode
 *                            (the CPU backend's kernels) and, with "reference", once with encodeReference (plain Java);
 *                            prints the seconds of each round on stderr, the median on stdout
 * </pre>
 * Example: {@code java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar org.jgemma.bench.VisionTowerBench run /tmp/models/synth-siglip-4b-f16.gguf}
 */
public final class VisionTowerBench {
    private VisionTowerBench() {}

    static final int D = 1152, HEADS = 16, FF = 4304, IMAGE = 896, PATCH = 14, PROJ = 2560;

    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("make")) {
            make(Path.of(args[1]), args.length > 2 ? Integer.parseInt(args[2]) : 27);
        } else if (args.length >= 2 && args[0].equals("run")) {
            run(Path.of(args[1]), args.length > 2 ? Integer.parseInt(args[2]) : 3, args.length > 3 && args[3].equals("reference"));
        } else {
            System.err.println("usage: VisionTowerBench make OUT.gguf [LAYERS] | run FILE [ROUNDS] [reference]");
            System.exit(2);
        }
    }

    static void run(Path file, int rounds, boolean reference) throws Exception {
        try (GgufFile f = GgufFile.open(file)) {
            VisionModel tower = VisionModel.load(f);
            var c = tower.config();
            float[] pixels = new float[3 * c.imageSize() * c.imageSize()];
            SplittableRandom r = new SplittableRandom(7);
            for (int i = 0; i < pixels.length; i++) pixels[i] = (float) (r.nextDouble() * 2 - 1);
            System.err.printf("tower: %d layers, width %d, %d heads, MLP %d, %d px / %d -> %d patches, %d tokens of %d%n", c.nLayer(),
                    c.nEmbd(), c.nHead(), c.nFf(), c.imageSize(), c.patchSize(), c.nPatches(), c.nTokens(), c.projDim());
            double[] s = new double[rounds], cpu = new double[rounds];
            float[][] fast = null;
            for (int i = 0; i < rounds; i++) {
                long t0 = System.nanoTime(), c0 = cpuNanos();
                fast = tower.encode(pixels);
                s[i] = (System.nanoTime() - t0) / 1e9;
                cpu[i] = (cpuNanos() - c0) / 1e9;
                System.err.printf("round %d: %.1f s, %.1f CPU s%n", i + 1, s[i], cpu[i]);
            }
            double[] sorted = s.clone(), cpuSorted = cpu.clone();
            Arrays.sort(sorted);
            Arrays.sort(cpuSorted);
            System.out.printf("encode (cpu backend): median %.1f s per image (min %.1f, max %.1f), median %.1f CPU s (%d rounds, %d cores)%n",
                    sorted[rounds / 2], sorted[0], sorted[rounds - 1], cpuSorted[rounds / 2], rounds, Runtime.getRuntime().availableProcessors());
            if (reference) {
                long t0 = System.nanoTime(), c0 = cpuNanos();
                float[][] slow = tower.encodeReference(pixels);
                double sec = (System.nanoTime() - t0) / 1e9, cpuSec = (cpuNanos() - c0) / 1e9;
                double d = 0, n = 0;
                for (int t = 0; t < slow.length; t++) {
                    for (int j = 0; j < slow[t].length; j++) {
                        d += (double) (slow[t][j] - fast[t][j]) * (slow[t][j] - fast[t][j]);
                        n += (double) slow[t][j] * slow[t][j];
                    }
                }
                System.out.printf("encodeReference (plain Java): %.1f s per image, %.1f CPU s; rms difference %.3g of rms %.3g%n", sec, cpuSec,
                        Math.sqrt(d / (slow.length * slow[0].length)), Math.sqrt(n / (slow.length * slow[0].length)));
            }
            tower.close();
        }
    }

    /** CPU time of the whole process (every thread), nanoseconds: on a shared machine the wall time says little. */
    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static void make(Path out, int layers) throws Exception {
        int side = IMAGE / PATCH, np = side * side;
        GgufWriter w = new GgufWriter();
        w.put("general.architecture", GgufValue.ofString("clip"));
        w.put("general.type", GgufValue.ofString("mmproj"));
        w.put("general.name", GgufValue.ofString("synthetic SigLIP so400m (jgemma VisionTowerBench)"));
        w.put("clip.has_vision_encoder", GgufValue.ofBool(true));
        w.put("clip.vision.projection_dim", GgufValue.ofUInt32(PROJ));
        w.put("clip.vision.image_size", GgufValue.ofUInt32(IMAGE));
        w.put("clip.vision.patch_size", GgufValue.ofUInt32(PATCH));
        w.put("clip.vision.embedding_length", GgufValue.ofUInt32(D));
        w.put("clip.vision.feed_forward_length", GgufValue.ofUInt32(FF));
        w.put("clip.vision.block_count", GgufValue.ofUInt32(layers));
        w.put("clip.vision.attention.head_count", GgufValue.ofUInt32(HEADS));
        w.put("clip.vision.image_mean", GgufValue.ofFloat32Array(0.5f, 0.5f, 0.5f));
        w.put("clip.vision.image_std", GgufValue.ofFloat32Array(0.5f, 0.5f, 0.5f));
        w.put("clip.projector_type", GgufValue.ofString("gemma3"));
        w.put("clip.vision.attention.layer_norm_epsilon", GgufValue.ofFloat32(1e-6f));
        w.put("clip.use_gelu", GgufValue.ofBool(true));
        Arena arena = Arena.ofConfined();
        SplittableRandom r = new SplittableRandom(20250);
        w.addTensor("mm.input_projection.weight", GgmlType.F16, new long[] {PROJ, D}, f16(arena, (long) PROJ * D, 0.05, 0, r));
        w.addTensor("mm.soft_emb_norm.weight", GgmlType.F32, new long[] {D}, f32(arena, D, 0.1, 1, r));
        w.addTensor("v.patch_embd.bias", GgmlType.F32, new long[] {D}, f32(arena, D, 0.02, 0, r));
        w.addTensor("v.patch_embd.weight", GgmlType.F16, new long[] {PATCH, PATCH, 3, D}, f16(arena, (long) PATCH * PATCH * 3 * D, 0.04, 0, r));
        w.addTensor("v.position_embd.weight", GgmlType.F16, new long[] {D, np}, f16(arena, (long) D * np, 0.04, 0, r));
        for (int il = 0; il < layers; il++) {
            String b = "v.blk." + il + ".";
            w.addTensor(b + "ln1.bias", GgmlType.F32, new long[] {D}, f32(arena, D, 0.02, 0, r));
            w.addTensor(b + "ln1.weight", GgmlType.F32, new long[] {D}, f32(arena, D, 0.1, 1, r));
            w.addTensor(b + "ln2.bias", GgmlType.F32, new long[] {D}, f32(arena, D, 0.02, 0, r));
            w.addTensor(b + "ln2.weight", GgmlType.F32, new long[] {D}, f32(arena, D, 0.1, 1, r));
            w.addTensor(b + "ffn_up.bias", GgmlType.F32, new long[] {FF}, f32(arena, FF, 0.02, 0, r));
            w.addTensor(b + "ffn_up.weight", GgmlType.F16, new long[] {D, FF}, f16(arena, (long) D * FF, 0.04, 0, r));
            w.addTensor(b + "ffn_down.bias", GgmlType.F32, new long[] {D}, f32(arena, D, 0.02, 0, r));
            w.addTensor(b + "ffn_down.weight", GgmlType.F16, new long[] {FF, D}, f16(arena, (long) FF * D, 0.04, 0, r));
            for (String m : new String[] {"attn_k", "attn_out", "attn_q", "attn_v"}) {
                w.addTensor(b + m + ".bias", GgmlType.F32, new long[] {D}, f32(arena, D, 0.02, 0, r));
                w.addTensor(b + m + ".weight", GgmlType.F16, new long[] {D, D}, f16(arena, (long) D * D, 0.04, 0, r));
            }
        }
        w.addTensor("v.post_ln.bias", GgmlType.F32, new long[] {D}, f32(arena, D, 0.02, 0, r));
        w.addTensor("v.post_ln.weight", GgmlType.F32, new long[] {D}, f32(arena, D, 0.1, 1, r));
        w.write(out);
        arena.close();
        System.err.printf("wrote %s: %d layers, %.0f MB%n", out, layers, out.toFile().length() / 1e6);
    }

    /** n values uniform with standard deviation {@code std} around {@code mean}. */
    private static MemorySegment f32(Arena a, long n, double std, double mean, SplittableRandom r) {
        MemorySegment s = a.allocate(4 * n, 32);
        double h = std * Math.sqrt(3);
        for (long i = 0; i < n; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, (float) (mean + r.nextDouble(-h, h)));
        return s;
    }

    private static MemorySegment f16(Arena a, long n, double std, double mean, SplittableRandom r) {
        MemorySegment s = a.allocate(2 * n, 32);
        double h = std * Math.sqrt(3);
        for (long i = 0; i < n; i++) {
            s.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, Float.floatToFloat16((float) (mean + r.nextDouble(-h, h))));
        }
        return s;
    }
}
