package org.jgemma.api;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufFormatException;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.gguf.GgufValue;
import org.jgemma.gguf.GgufValueType;
import org.jgemma.gguf.GgufWriter;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzing past the GGUF header: well-formed fixture models with hostile contents (metadata values and types,
 * tokenizer arrays and special ids, the chat template, tensor bytes, tensor shapes) go through the whole pipeline:
 * open, render a chat, generate a few tokens, detokenize. Every outcome must be success or a documented exception:
 * {@link GgufFormatException}, a {@link JGemmaException} (ModelFormatException, ChatTemplateException,
 * BackendUnavailableException, ...) or {@link IllegalArgumentException}; never an IndexOutOfBounds,
 * NumberFormatException, IllegalStateException from inside, an OutOfMemoryError or a hang (60 s per case).
 *
 * <p>CI runs a fixed seed and {@value #CI_ITERATIONS} iterations; {@code -Djgemma.pipelinefuzz.iterations=N},
 * {@code -Djgemma.pipelinefuzz.seconds=T} (stop after T seconds, whichever comes first) and
 * {@code -Djgemma.pipelinefuzz.seed=S} run longer or other cases. The outcome counts are printed.
 */
class PipelineFuzzTest {
    static final int CI_ITERATIONS = 120;

    @TempDir
    Path tmp;

    /** A fixture as a mutable recipe: metadata and tensors (data on the heap). */
    record Base(int version, Map<String, GgufValue> meta, List<GgufWriter.Tensor> tensors) {}

    static Base base(Path p) throws IOException {
        try (GgufFile f = GgufFile.open(p)) {
            List<GgufWriter.Tensor> ts = new ArrayList<>();
            for (GgufTensorInfo t : f.tensors()) {
                ts.add(new GgufWriter.Tensor(t.name(), t.type(), t.ne(), MemorySegment.ofArray(t.data().toArray(ValueLayout.JAVA_BYTE))));
            }
            return new Base(f.version(), new LinkedHashMap<>(f.metadata()), ts);
        }
    }

    static final String[] TEMPLATES = {
            "{% include 'META-INF/MANIFEST.MF' %}", "{% extends 'x' %}", "{% import 'y' as z %}{{ z.q() }}",
            "{{ raise_exception('nope') }}", "{% for m in messages %}{{ m.content }}{% endfor %}", "{% for %}",
            "{{ messages[7].content }}", "{{ bos_token * 3 }}{{ eos_token }}", "{% set s = 'ab' %}{% for i in range(30) %}"
            + "{% set s = s ~ s %}{% endfor %}{{ s }}", "{{ messages | tojson }}", "<start_of_turn>", "", "{{ 1 / 0 }}",
            "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(0) }}", "{{ messages[0]['role'] + 5 }}", "\u0000{{ \u001b }}",
    };

    static final long[] EDGE = {0, 1, 2, 3, 7, 8, 16, 63, 64, 65, 255, 256, 1023, 1024, 1025, 4096, 65535, 65536,
            2147483647L, 2147483648L, 4294967295L, -1, -2147483648L};

    /** Applies 1..3 random mutations to a copy of {@code b}; returns their descriptions. */
    static List<String> mutate(Random rnd, Base b, Map<String, GgufValue> meta, List<GgufWriter.Tensor> tensors) {
        List<String> did = new ArrayList<>();
        int n = 1 + rnd.nextInt(3);
        List<String> keys = new ArrayList<>(meta.keySet());
        for (int m = 0; m < n; m++) {
            switch (rnd.nextInt(9)) {
                case 0, 1 -> { // a numeric / any value
                    String k = keys.get(rnd.nextInt(keys.size()));
                    GgufValue old = meta.get(k); // null when an earlier mutation of this case removed k
                    long v = rnd.nextInt(4) == 0 ? rnd.nextLong() : EDGE[rnd.nextInt(EDGE.length)];
                    GgufValue nv = switch (rnd.nextInt(6)) {
                        case 0 -> GgufValue.ofInt32((int) v);
                        case 1 -> GgufValue.ofFloat32(rnd.nextBoolean() ? Float.NaN : (float) v);
                        case 2 -> GgufValue.ofString("\u001b]0;" + v);
                        case 3 -> GgufValue.ofInt64(v);
                        case 4 -> GgufValue.ofInt32Array((int) v, (int) v);
                        default -> old == null || old.isArray() || old.type() == GgufValueType.STRING
                                || old.type() == GgufValueType.BOOL ? GgufValue.ofUInt32(v) : GgufValue.scalar(old.type(), coerce(old.type(), v));
                    };
                    meta.put(k, nv);
                    did.add(k + " = " + nv.render(4));
                }
                case 2 -> { // remove a key
                    String k = keys.get(rnd.nextInt(keys.size()));
                    meta.remove(k);
                    did.add("remove " + k);
                }
                case 3 -> { // token texts
                    if (!(meta.get("tokenizer.ggml.tokens") instanceof GgufValue tv && tv.value() instanceof String[] ta)) break;
                    String[] t = ta.clone();
                    int i = rnd.nextInt(t.length);
                    String[] choices = {"", t[rnd.nextInt(t.length)], "<0xZZ>", "\u001b[31m", "<0x4", "x".repeat(1000),
                            new String(Character.toChars(0x1F600 + rnd.nextInt(50))), "<end_of_turn>", "<0x41>"};
                    t[i] = choices[rnd.nextInt(choices.length)];
                    if (rnd.nextInt(8) == 0) t = java.util.Arrays.copyOf(t, rnd.nextInt(t.length + 1));
                    meta.put("tokenizer.ggml.tokens", GgufValue.ofStringArray(t));
                    did.add("token " + i + " text, tokens " + t.length);
                }
                case 4 -> { // token types and scores
                    if (!(meta.get("tokenizer.ggml.token_type") instanceof GgufValue tv && tv.value() instanceof int[] ta)) break;
                    if (!(meta.get("tokenizer.ggml.scores") instanceof GgufValue sv && sv.value() instanceof float[] sa)) break;
                    int[] ty = ta.clone();
                    float[] sc = sa.clone();
                    int i = rnd.nextInt(ty.length);
                    ty[i] = rnd.nextInt(12) - 1;
                    sc[rnd.nextInt(sc.length)] = rnd.nextBoolean() ? Float.NaN : Float.NEGATIVE_INFINITY;
                    if (rnd.nextInt(8) == 0) ty = java.util.Arrays.copyOf(ty, rnd.nextInt(ty.length));
                    meta.put("tokenizer.ggml.token_type", GgufValue.ofInt32Array(ty));
                    meta.put("tokenizer.ggml.scores", GgufValue.ofFloat32Array(sc));
                    did.add("token " + i + " type " + (i < ty.length ? ty[i] : -99) + ", types " + ty.length);
                }
                case 5 -> { // special ids
                    String[] ids = {"bos", "eos", "eot", "unknown", "padding"};
                    String k = "tokenizer.ggml." + ids[rnd.nextInt(ids.length)] + "_token_id";
                    long v = EDGE[rnd.nextInt(EDGE.length)];
                    meta.put(k, GgufValue.ofUInt32(v));
                    did.add(k + " = " + v);
                }
                case 6 -> { // the template
                    String src = TEMPLATES[rnd.nextInt(TEMPLATES.length)];
                    GgufValue orig = b.meta().get("tokenizer.chat_template");
                    if (orig != null && rnd.nextBoolean()) { // splice: cut a random piece of the real template
                        String o = (String) orig.value();
                        int a = rnd.nextInt(o.length()), z = Math.min(o.length(), a + 1 + rnd.nextInt(40));
                        src = o.substring(0, a) + (rnd.nextBoolean() ? "" : TEMPLATES[rnd.nextInt(TEMPLATES.length)]) + o.substring(z);
                    }
                    meta.put("tokenizer.chat_template", GgufValue.ofString(src));
                    did.add("template " + src.length() + " chars");
                }
                case 7 -> { // tensor bytes
                    int ti = rnd.nextInt(tensors.size());
                    GgufWriter.Tensor t = tensors.get(ti);
                    byte[] d = t.data().toArray(ValueLayout.JAVA_BYTE);
                    int hits = 1 + rnd.nextInt(64);
                    for (int h = 0; h < hits && d.length > 0; h++) d[rnd.nextInt(d.length)] = (byte) (rnd.nextBoolean() ? 0xFF : rnd.nextInt());
                    tensors.set(ti, new GgufWriter.Tensor(t.name(), t.type(), t.ne(), MemorySegment.ofArray(d)));
                    did.add("tensor " + t.name() + " " + hits + " bytes");
                }
                default -> { // tensor shape: dims swapped (same size) or a tensor dropped
                    int ti = rnd.nextInt(tensors.size());
                    GgufWriter.Tensor t = tensors.get(ti);
                    if (rnd.nextBoolean() && t.ne().length == 2 && t.ne()[1] % t.type().blockSize == 0) {
                        tensors.set(ti, new GgufWriter.Tensor(t.name(), t.type(), new long[] {t.ne()[1], t.ne()[0]}, t.data()));
                        did.add("tensor " + t.name() + " transposed");
                    } else {
                        tensors.remove(ti);
                        did.add("tensor " + t.name() + " dropped");
                    }
                }
            }
        }
        return did;
    }

    static Object coerce(GgufValueType t, long v) {
        return switch (t) {
            case UINT8 -> (int) (v & 0xFF);
            case INT8 -> (byte) v;
            case UINT16 -> (int) (v & 0xFFFF);
            case INT16 -> (short) v;
            case UINT32 -> v & 0xFFFFFFFFL;
            case INT32 -> (int) v;
            case FLOAT32 -> (float) v;
            case FLOAT64 -> (double) v;
            default -> v;
        };
    }

    /** One case through the pipeline; returns the outcome's name. */
    static String pipeline(Path file) throws Exception {
        try (Model m = Model.open(file, ModelOptions.defaults().withBackend("reference").withContextSize(64));
             ChatSession chat = m.newChat("Be <end_of_turn> brief.")) {
            GenerationResult r = chat.send("Hi <start_of_turn> there \u00e9\u4e2d", GenerationOptions.greedy(3), TokenListener.NONE);
            String text = m.detokenize(r.tokens());
            if (!text.equals(r.text()) && r.stopReason() != StopReason.END_OF_GENERATION) {
                // the streamed text and a one-shot detokenize may differ only by held-back bytes; both must succeed
                m.tokenize(text, true, true);
            }
            return "ok";
        }
    }

    @Test
    void hostileContentsGiveDocumentedOutcomes() throws Exception {
        int iterations = Integer.getInteger("jgemma.pipelinefuzz.iterations", CI_ITERATIONS);
        long seed = Long.getLong("jgemma.pipelinefuzz.seed", 16);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.getLong("jgemma.pipelinefuzz.seconds", 1L << 30));
        Base[] bases = {base(Fixtures.file("tiny/gemma3-tiny-f32.gguf")), base(Fixtures.model("tinymix", "q4_k_m"))};
        Random rnd = new Random(seed);
        Map<String, Integer> counts = new TreeMap<>();
        Map<String, String> examples = new TreeMap<>(); // the first case of each exception, for the log
        Path file = tmp.resolve("fuzz.gguf");
        ExecutorService ex = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pipeline-fuzz");
            t.setDaemon(true);
            return t;
        });
        try {
            int it = 0;
            for (; it < iterations && System.nanoTime() < deadline; it++) {
                Base b = bases[it % bases.length];
                Map<String, GgufValue> meta = new LinkedHashMap<>(b.meta());
                List<GgufWriter.Tensor> tensors = new ArrayList<>(b.tensors());
                List<String> did = mutate(rnd, b, meta, tensors);
                try {
                    GgufWriter w = new GgufWriter().version(b.version()).putAll(meta);
                    for (GgufWriter.Tensor t : tensors) w.addTensor(t.name(), t.type(), t.ne(), t.data());
                    w.write(file);
                } catch (IllegalArgumentException e) { // the writer refuses what llama.cpp could not read
                    counts.merge("writer refused", 1, Integer::sum);
                    continue;
                }
                Future<String> f = ex.submit(() -> pipeline(file));
                String outcome;
                try {
                    outcome = f.get(60, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    f.cancel(true);
                    throw new AssertionError("iteration " + it + " (seed " + seed + ") hung: " + did);
                } catch (java.util.concurrent.ExecutionException e) {
                    Throwable c = e.getCause();
                    boolean documented = c instanceof GgufFormatException || c instanceof JGemmaException
                            || (c instanceof IllegalArgumentException && !(c instanceof NumberFormatException));
                    if (!documented) {
                        StringWriter sw = new StringWriter();
                        c.printStackTrace(new PrintWriter(sw));
                        fail("iteration " + it + " (seed " + seed + ") " + did + ": undocumented " + sw);
                    }
                    assertTrue(c.getMessage() != null && !c.getMessage().contains("\u001b"), "message: " + c.getMessage());
                    outcome = c.getClass().getSimpleName();
                    if (!examples.containsKey(outcome)) examples.put(outcome, "iteration " + it + " " + did + ": " + c.getMessage());
                }
                counts.merge(outcome, 1, Integer::sum);
            }
            System.out.println("PipelineFuzzTest seed " + seed + ", " + it + " iterations: " + counts);
            examples.forEach((k, v) -> System.out.println("  first " + k + ": " + v));
        } finally {
            ex.shutdownNow();
        }
    }
}
