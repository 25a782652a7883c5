package org.jgemma.cli;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jgemma.api.Model;
import org.jgemma.sampling.Sampler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jgemma logits MODEL --ids "2 105 ..." [--gen N] --out FILE}: the logits of every prompt position (one
 * batch), then N greedy steps fed back one token at a time, in the reference .bin layout (little endian):
 * {@code int32 n_prompt, n_gen, n_vocab; int32 tokens[n_prompt + n_gen]; float32 logits[n_prompt + n_gen][n_vocab]}.
 */
@Command(name = "logits", mixinStandardHelpOptions = true, description = "Write the logits of a prompt and of greedy steps.")
final class LogitsCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "a .gguf file or an Ollama model (name:tag)") String model;

    @Option(names = "--ids", required = true, description = "prompt token ids, e.g. \"2 105 2364\"") String ids;

    @Option(names = "--gen", defaultValue = "0", description = "greedy steps after the prompt") int gen;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "where to write the logits (the fixtures' reference .bin layout)") Path out;

    @Mixin CommonOptions common;

    @Override
    public Integer call() throws Exception {
        int[] prompt = Cli.parseIds(ids);
        if (prompt.length == 0) throw new IllegalArgumentException("--ids: no token ids");
        if (gen < 0) throw new IllegalArgumentException("--gen must be ≥ 0, got " + gen);
        try (Model m = Cli.open(Cli.resolveModel(model), common.modelOptions(prompt.length + gen), spec.commandLine().getErr())) {
            int nv = m.vocabSize();
            Model.RawSequence seq = m.newRawSequence();
            float[] promptLogits = seq.evaluateAll(prompt); // [n_prompt][n_vocab]
            int[] tokens = new int[prompt.length + gen];
            System.arraycopy(prompt, 0, tokens, 0, prompt.length);
            float[][] genLogits = new float[gen][nv];
            float[] last = new float[nv];
            System.arraycopy(promptLogits, (prompt.length - 1) * nv, last, 0, nv);
            for (int i = 0; i < gen; i++) {
                int next = Sampler.argmax(last, nv);
                tokens[prompt.length + i] = next;
                seq.evaluate(new int[] {next}, genLogits[i]);
                last = genLogits[i];
            }
            try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(out), 1 << 20)) {
                ByteBuffer b = ByteBuffer.allocate(4 * (3 + tokens.length)).order(ByteOrder.LITTLE_ENDIAN);
                b.putInt(prompt.length).putInt(gen).putInt(nv);
                for (int t : tokens) b.putInt(t);
                os.write(b.array());
                ByteBuffer row = ByteBuffer.allocate(4 * nv).order(ByteOrder.LITTLE_ENDIAN);
                for (int r = 0; r < prompt.length; r++) {
                    row.clear();
                    row.asFloatBuffer().put(promptLogits, r * nv, nv);
                    os.write(row.array());
                }
                for (float[] g : genLogits) {
                    row.clear();
                    row.asFloatBuffer().put(g);
                    os.write(row.array());
                }
            }
            spec.commandLine().getErr().printf("wrote %d prompt + %d generated rows of %d logits to %s%n", prompt.length, gen, nv, out);
        }
        return 0;
    }
}
