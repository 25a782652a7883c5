package org.jgemma.cli;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.jgemma.api.Model;
import org.jgemma.chat.ChatMessage;
import org.jgemma.sampling.Sampler;
import org.jgemma.vision.ImagePreprocessor;
import org.jgemma.vision.RgbImage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jgemma logits MODEL --ids "2 105 ..." [--gen N] --out FILE}: the logits of every prompt position (one
 * batch), then N greedy steps fed back one token at a time, in the reference .bin layout (little endian):
 * {@code int32 n_prompt, n_gen, n_vocab; int32 tokens[n_prompt + n_gen]; float32 logits[n_prompt + n_gen][n_vocab]}.
 * With {@code --prompt TEXT --image F} it is the vision fixtures' layout instead: the prompt built as llama-mtmd-cli
 * builds it, image positions written as 262144, and only the last prompt row plus the N greedy rows.
 */
@Command(name = "logits", mixinStandardHelpOptions = true, description = "Write the logits of a prompt and of greedy steps.")
final class LogitsCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "a .gguf file or an Ollama model (name:tag)") String model;

    @Option(names = "--ids", description = "prompt token ids, e.g. \"2 105 2364\"") String ids;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "instead of --ids: a user message, rendered with the chat"
            + " template (as llama-mtmd-cli -p); with --image the file holds the fixtures' vision layout: the last prompt"
            + " row and the greedy rows only, image positions as 262144 (<image_soft_token>)") String promptText;

    @Option(names = "--image", paramLabel = "F", description = "an image shown in front of --prompt; repeatable") List<Path> images = List.of();

    @Option(names = "--mmproj", paramLabel = "FILE", description = "the vision projector (default: in the model, or next to it)") Path mmproj;

    @Option(names = "--image-preprocess", paramLabel = "pad|stretch", description = "pad (llama.cpp, default) or stretch (HF)") String imagePreprocess = "pad";

    @Option(names = "--gen", defaultValue = "0", description = "greedy steps after the prompt") int gen;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "where to write the logits (the fixtures' reference .bin layout)") Path out;

    @Mixin CommonOptions common;

    @Override
    public Integer call() throws Exception {
        if ((ids == null) == (promptText == null)) throw new IllegalArgumentException("give --ids or --prompt (one of them)");
        if (promptText != null) return withImages();
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

    /** The image soft token's id in HF configs (one past the GGUF vocabulary); what the fixtures write at image positions. */
    static final int IMAGE_SOFT_TOKEN = 262144;

    private Integer withImages() throws Exception {
        if (gen < 0) throw new IllegalArgumentException("--gen must be ≥ 0, got " + gen);
        ImagePreprocessor.Mode mode = ImagePreprocessor.Mode.parse(imagePreprocess);
        List<RgbImage> shown = new java.util.ArrayList<>();
        for (Path p : images) shown.add(RgbImage.read(p));
        try (Model m = Cli.open(Cli.resolveModel(model), common.modelOptions(4096), spec.commandLine().getErr())) {
            if (mmproj != null) m.useMmproj(mmproj);
            m.setImagePreprocess(mode);
            java.util.Map<Integer, float[][]> embd = new java.util.HashMap<>();
            int[] prompt = m.encodeChat(List.of(new ChatMessage("user", promptText, shown)), embd);
            int nv = m.vocabSize();
            float[] last = new float[nv];
            int[] tokens = new int[prompt.length + gen];
            try (Model.RawSequence seq = m.newRawSequence()) {
                for (int i = 0; i < prompt.length; ) {
                    if (prompt[i] < 0) {
                        float[][] e = embd.get(prompt[i]);
                        seq.evaluateImage(e);
                        for (int j = 0; j < e.length; j++) tokens[i + j] = IMAGE_SOFT_TOKEN;
                        i += e.length;
                    } else {
                        int j = i;
                        while (j < prompt.length && prompt[j] >= 0) j++;
                        seq.evaluate(java.util.Arrays.copyOfRange(prompt, i, j), last);
                        System.arraycopy(prompt, i, tokens, i, j - i);
                        i = j;
                    }
                }
                float[][] rows = new float[1 + gen][];
                rows[0] = last.clone();
                for (int k = 0; k < gen; k++) {
                    int next = Sampler.argmax(rows[k], nv);
                    tokens[prompt.length + k] = next;
                    rows[k + 1] = new float[nv];
                    seq.evaluate(new int[] {next}, rows[k + 1]);
                }
                try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(out), 1 << 20)) {
                    ByteBuffer b = ByteBuffer.allocate(4 * (3 + tokens.length)).order(ByteOrder.LITTLE_ENDIAN);
                    b.putInt(prompt.length).putInt(gen).putInt(nv);
                    for (int t : tokens) b.putInt(t);
                    os.write(b.array());
                    ByteBuffer row = ByteBuffer.allocate(4 * nv).order(ByteOrder.LITTLE_ENDIAN);
                    for (float[] r : rows) {
                        row.clear();
                        row.asFloatBuffer().put(r);
                        os.write(row.array());
                    }
                }
            }
            spec.commandLine().getErr().printf("wrote the last prompt row + %d generated rows of %d logits (%d prompt tokens) to %s%n",
                    gen, nv, prompt.length, out);
        }
        return 0;
    }
}
