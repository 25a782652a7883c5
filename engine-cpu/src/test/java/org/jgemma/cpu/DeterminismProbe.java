package org.jgemma.cpu;

import java.nio.file.Path;
import java.util.Arrays;
import org.jgemma.gguf.GgufFile;
import org.jgemma.model.Gemma3Model;

/**
 * Runs the same greedy generation {@code runs} times in this (fresh) JVM on the CPU backend and prints, per run, the
 * tokens and a hash of every step's logits bits: cold (interpreter, C1) and warm (C2) runs must print the same line.
 * Arguments: model file, runs, steps.
 */
public final class DeterminismProbe {
    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int runs = Integer.parseInt(args[1]), steps = Integer.parseInt(args[2]);
        try (GgufFile f = GgufFile.open(file); CpuBackend b = new CpuBackend(2)) {
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
}
