package org.jgemma.cpu;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;

import org.jgemma.backend.Backend;
import org.jgemma.gguf.GgufFile;
import org.jgemma.model.Gemma3Model;

/**
 * Manual speed driver (not a test): {@code CpuBench FILE [threads] [pp] [tg]} prints prompt-processing and
 * generation tokens/s like llama-bench (pp: one batch of pp random tokens; tg: tg single-token steps after it).
 */
public final class CpuBench {
    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 0;
        int pp = args.length > 2 ? Integer.parseInt(args[2]) : 128;
        int tg = args.length > 3 ? Integer.parseInt(args[3]) : 32;
        int reps = args.length > 4 ? Integer.parseInt(args[4]) : 3;
        try (GgufFile f = GgufFile.open(file); Backend b = new CpuBackend(threads)) {
            Gemma3Model m = Gemma3Model.load(f, b, pp + tg + 8);
            Random rnd = new Random(1);
            int[] prompt = new int[pp];
            for (int i = 0; i < pp; i++) prompt[i] = 2 + rnd.nextInt(m.vocabSize() - 2);
            for (int rep = 0; rep <= reps; rep++) { // rep 0 warms up the JIT
                Gemma3Model.Session s = m.newSession();
                long t0 = System.nanoTime();
                s.forward(prompt, false);
                long t1 = System.nanoTime();
                int next = 5;
                for (int i = 0; i < tg; i++) {
                    float[] logits = s.forward(new int[] {next}, false);
                    next = 2 + (Float.floatToRawIntBits(logits[i]) & 0xFFF);
                }
                long t2 = System.nanoTime();
                System.out.printf(Locale.ROOT, "%s %s pp%d %.2f t/s  tg%d %.2f t/s%n", rep == 0 ? "warmup" : "run", file.getFileName(),
                        pp, pp / ((t1 - t0) / 1e9), tg, tg / ((t2 - t1) / 1e9));
            }
        }
    }
}
