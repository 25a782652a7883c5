package org.jgemma.cpu;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import org.jgemma.backend.Backend;
import org.jgemma.gguf.GgufFile;
import org.jgemma.model.Gemma3Model;

/**
 * Manual speed driver (not a test): {@code BatchBench FILE [threads] [steps]}: ms per decode step of N sequences one
 * after the other (N single steps) and as one batched step (Gemma3Model.decodeBatch), N = 1, 2, 4, alternating.
 * With one thread the work runs on the calling thread, and its CPU time is printed too: on a shared, loaded machine
 * that is the figure to compare (the wall clock also counts the time other processes held the core).
 */
public final class BatchBench {
    public static void main(String[] args) throws Exception {
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        try (GgufFile f = GgufFile.open(Path.of(args[0])); Backend b = new CpuBackend(threads)) {
            Gemma3Model m = Gemma3Model.load(f, b, 256);
            Gemma3Model.Session[] s = new Gemma3Model.Session[4];
            for (int i = 0; i < 4; i++) s[i] = m.newSession();
            float[][] out = new float[4][m.vocabSize()];
            int[] tok = {10, 20, 30, 40};
            for (int round = 0; round < 4; round++) {
                for (int n : new int[] {1, 2, 4}) {
                    for (Gemma3Model.Session x : s) x.reset();
                    long c0 = mx.getCurrentThreadCpuTime(), t0 = System.nanoTime();
                    for (int st = 0; st < steps; st++) for (int i = 0; i < n; i++) s[i].forward(tok, i, 1, out[i]);
                    long t1 = System.nanoTime(), c1 = mx.getCurrentThreadCpuTime();
                    for (Gemma3Model.Session x : s) x.reset();
                    long c2 = mx.getCurrentThreadCpuTime(), t2 = System.nanoTime();
                    for (int st = 0; st < steps; st++) m.decodeBatch(s, tok, n, out);
                    long t3 = System.nanoTime(), c3 = mx.getCurrentThreadCpuTime();
                    System.out.printf("round %d N=%d: alone %.1f ms/step (caller CPU %.1f), batched %.1f ms/step (caller CPU %.1f), CPU ratio %.2f%n",
                            round, n, (t1 - t0) / 1e6 / steps, (c1 - c0) / 1e6 / steps, (t3 - t2) / 1e6 / steps, (c3 - c2) / 1e6 / steps,
                            (double) (c1 - c0) / (c3 - c2));
                }
            }
        }
    }
}
