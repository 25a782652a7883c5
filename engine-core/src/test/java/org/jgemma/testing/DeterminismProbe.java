package org.jgemma.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendOptions;
import org.jgemma.backend.Backends;
import org.jgemma.gguf.GgufFile;
import org.jgemma.model.Gemma3Model;

/**
 * Runs the same greedy generation {@code runs} times in this (fresh) JVM on one backend and prints, per run, the
 * tokens and a hash of every step's logits bits: cold (interpreter, C1, first kernel launches) and warm (C2) runs must
 * print the same line. Arguments: backend name, model file, runs, steps. {@link #check} forks it and compares.
 */
public final class DeterminismProbe {
    public static void main(String[] args) throws Exception {
        String backend = args[0];
        Path file = Path.of(args[1]);
        int runs = Integer.parseInt(args[2]), steps = Integer.parseInt(args[3]);
        try (GgufFile f = GgufFile.open(file); Backend b = Backends.create(backend, new BackendOptions(2, null))) {
            Gemma3Model m = Gemma3Model.load(f, b, 256);
            int nv = m.vocabSize();
            for (int run = 0; run < runs; run++) {
                try (Gemma3Model.Session s = m.newSession()) {
                    int[] prompt = new int[24];
                    for (int i = 0; i < prompt.length; i++) prompt[i] = (i * 37 + 11) % nv;
                    prompt[0] = 2;
                    float[] logits = s.forward(prompt, false);
                    int[] tokens = new int[steps];
                    int hash = 1;
                    for (int step = 0; step < steps; step++) {
                        hash = 31 * hash + Arrays.hashCode(logits);
                        int best = 0;
                        for (int v = 1; v < nv; v++) if (logits[v] > logits[best]) best = v;
                        tokens[step] = best;
                        logits = s.forward(new int[] {best}, false);
                    }
                    System.out.println("run " + run + ": " + Integer.toHexString(hash) + " " + Arrays.toString(tokens));
                }
            }
        }
    }

    /**
     * Forks a JVM that runs the generation 20 times (16 greedy steps after a 24-token prompt) on {@code backend} and
     * asserts every run printed the same logits hash and tokens as the first, cold one.
     */
    public static void check(String backend, Path model) throws Exception {
        check(backend, model, 16);
    }

    /** {@link #check} with {@code steps} greedy steps a run (the CUDA host driver emulates warps: slow on 2 cores). */
    public static void check(String backend, Path model, int steps) throws Exception {
        ForkedJvm.Result r = ForkedJvm.run(List.of(), DeterminismProbe.class, backend, model.toString(), "20",
                Integer.toString(steps));
        assertEquals(0, r.code(), r.toString());
        List<String> lines = r.out().lines().filter(l -> l.startsWith("run ")).toList();
        assertEquals(20, lines.size(), r.toString());
        for (String l : lines) {
            assertEquals(lines.getFirst().replaceFirst("^run \\d+", ""), l.replaceFirst("^run \\d+", ""),
                    backend + ": a run differs from the first (cold) run:\n" + String.join("\n", lines));
        }
    }
}
