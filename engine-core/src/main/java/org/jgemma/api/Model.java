package org.jgemma.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Collectors;
import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendOptions;
import org.jgemma.backend.Backends;
import org.jgemma.chat.ChatTemplate;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufFormatException;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.model.Gemma3Config;
import org.jgemma.model.Gemma3Model;
import org.jgemma.ollama.OllamaStore;
import org.jgemma.tokenizer.Tokenizer;

/**
 * A Gemma 3 model opened from a GGUF file on a backend: the entry point of the API.
 *
 * <pre>{@code
 * try (Model model = Model.open(Path.of("gemma-3-1b-it-Q4_K_M.gguf"), ModelOptions.defaults().withBackend("cpu"));
 *      ChatSession chat = model.newChat("You are terse.")) {
 *     chat.send("Why is the sky blue?", GenerationOptions.defaults().withMaxTokens(200),
 *             TokenListener.text(System.out::print));
 * }
 * }</pre>
 *
 * <p>Thread-safety: a Model is immutable once open and may be shared between threads (tokenize, detokenize and
 * newSession are safe to call concurrently). Each {@link Session} / {@link ChatSession} belongs to one thread at a
 * time; sessions on different threads take turns on the backend (one step at a time per model). Close the model
 * after its sessions.
 */
public final class Model implements AutoCloseable {
    private final Inference inference;
    private final TextCodec codec;
    private final Tokenizer tokenizer; // null for models built from parts (tests)
    private final Gemma3Config config;  // null likewise
    private final GgufFile file;       // null likewise
    private final int bos;
    private final long loadNanos;
    private final Object lock = new Object();

    Model(Inference inference, TextCodec codec, int bos, Tokenizer tokenizer, Gemma3Config config, GgufFile file, long loadNanos) {
        this.inference = inference;
        this.codec = codec;
        this.bos = bos;
        this.tokenizer = tokenizer;
        this.config = config;
        this.file = file;
        this.loadNanos = loadNanos;
    }

    /** Opens {@code path} on the best available backend with default options. */
    public static Model open(Path path) throws IOException {
        return open(path, ModelOptions.defaults());
    }

    /** Opens a GGUF file or an Ollama model reference ({@code gemma3:4b-it-q4_K_M}), see {@link #resolve(String)}. */
    public static Model open(String fileOrReference, ModelOptions options) throws IOException {
        return open(resolve(fileOrReference), options);
    }

    /**
     * The GGUF file {@code fileOrReference} names: the file itself when it exists, else the blob of the Ollama model
     * of that name in the standard Ollama stores ({@link OllamaStore#standard()}).
     *
     * @throws NoSuchFileException when it is neither a file nor a model in a store (the message lists the stores searched)
     */
    public static Path resolve(String fileOrReference) throws IOException {
        return resolve(fileOrReference, OllamaStore.standard());
    }

    /** As {@link #resolve(String)}, looking in {@code store}. */
    public static Path resolve(String fileOrReference, OllamaStore store) throws IOException {
        Path p = Path.of(fileOrReference);
        if (Files.exists(p)) return p;
        if (!OllamaStore.looksLikeReference(fileOrReference)) {
            throw new NoSuchFileException(fileOrReference);
        }
        Optional<Path> blob = store.resolve(fileOrReference);
        if (blob.isPresent()) return blob.get();
        throw new NoSuchFileException(fileOrReference, null, "neither a file nor an Ollama model in the stores searched: "
                + store.roots().stream().map(Path::toString).collect(Collectors.joining(", "))
                + " (set OLLAMA_MODELS, or `ollama pull " + fileOrReference + "`)");
    }

    /**
     * Opens a gemma3 GGUF file: maps it, reads the config and tokenizer, creates the backend and makes the weights
     * resident. Throws {@link IOException} if the file cannot be read, {@link org.jgemma.model.ModelFormatException}
     * or {@link GgufFormatException} (naming key, tensor and offset) if it is not a usable gemma3 file, and
     * {@link org.jgemma.backend.BackendUnavailableException} if the backend cannot run here.
     */
    public static Model open(Path path, ModelOptions options) throws IOException {
        if (!Files.exists(path)) path = resolve(path.toString()); // an Ollama reference passed as a Path
        long t0 = System.nanoTime();
        GgufFile file = GgufFile.open(path);
        Backend backend = null;
        try {
            Gemma3Config config = Gemma3Config.from(file);
            Tokenizer tokenizer = Tokenizer.from(file, config.nVocab());
            int ctx = options.contextSize() > 0 ? options.contextSize() : Math.min(config.contextLength(), ModelOptions.DEFAULT_MAX_CONTEXT);
            if (ctx > config.contextLength()) {
                throw new IllegalArgumentException("context size " + ctx + " is larger than the model's training context "
                        + config.contextLength() + " (gemma3.context_length)");
            }
            if (options.progress() != null) touchWeights(file, options.progress());
            backend = Backends.create(options.backend(), new BackendOptions(options.threads(), null));
            ChatTemplate template = ChatTemplate.from(file);
            Gemma3Model model = Gemma3Model.load(file, backend, ctx);
            return new Model(new Gemma3Inference(model, backend), new TokenizerCodec(tokenizer, template), tokenizer.bosId(), tokenizer,
                    config, file, System.nanoTime() - t0);
        } catch (GgufFormatException e) {
            closeQuietly(backend, file);
            throw new GgufFormatException(path + ": " + e.getMessage(), e.offset());
        } catch (RuntimeException | Error e) {
            closeQuietly(backend, file);
            throw e;
        }
    }

    /** Reads one byte per page of every tensor, so the file is in memory before the backend uses it; reports progress. */
    private static void touchWeights(GgufFile file, ModelOptions.LoadProgress progress) {
        long total = 0;
        for (GgufTensorInfo t : file.tensors()) total += t.byteSize();
        long done = 0, reported = 0;
        long sink = 0;
        progress.update(0, total);
        for (GgufTensorInfo t : file.tensors()) {
            MemorySegment d = t.data();
            for (long off = 0; off < d.byteSize(); off += 4096) sink += d.get(ValueLayout.JAVA_BYTE, off);
            done += t.byteSize();
            if (done - reported >= total / 100 || done == total) {
                progress.update(done, total);
                reported = done;
            }
        }
        if (sink == 42) progress.update(done, total); // keeps the reads from being optimised away
    }

    private static void closeQuietly(Backend backend, GgufFile file) {
        try {
            if (backend != null) backend.close();
        } finally {
            file.close();
        }
    }

    /** A new completion session (its own KV cache). */
    public Session newSession() {
        return new Session(this);
    }

    /**
     * A new chat with the model's chat template (the GGUF's {@code tokenizer.chat_template}, else the built-in Gemma
     * format); {@code systemPrompt} may be null. Special-token text in messages stays text.
     */
    public ChatSession newChat(String systemPrompt) {
        return newChat(systemPrompt, false);
    }

    /**
     * As {@link #newChat(String)}; with {@code parseSpecialInContent} special-token text inside messages becomes
     * control tokens (a user's {@code <end_of_turn>} then ends the turn), as llama.cpp's server does.
     */
    public ChatSession newChat(String systemPrompt, boolean parseSpecialInContent) {
        return new ChatSession(newSession(), systemPrompt, parseSpecialInContent);
    }

    public ChatSession newChat() {
        return newChat(null);
    }

    /** One-shot: a fresh session generates from {@code prompt} (BOS added, special tokens parsed). */
    public GenerationResult generate(String prompt, GenerationOptions options, TokenListener listener) {
        try (Session s = newSession()) {
            return s.generate(prompt, options, listener);
        }
    }

    /** Token ids of {@code text}. */
    public int[] tokenize(String text, boolean addBos, boolean parseSpecial) {
        return codec.encode(text, addBos, parseSpecial);
    }

    /** Text of token ids (special tokens left out). */
    public String detokenize(int[] ids) {
        if (tokenizer != null) return tokenizer.decode(ids);
        Utf8Assembler u = new Utf8Assembler();
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(u.push(codec.tokenBytes(id)));
        return sb.append(u.flush()).toString();
    }

    public int vocabSize() { return inference.vocabSize(); }

    /** Tokens one session can hold. */
    public int contextSize() { return inference.contextSize(); }

    /** The backend's name ({@code cpu}, {@code cuda}, ...) and device. */
    public String backendName() { return inference.backendName(); }

    public String deviceName() { return inference.deviceName(); }

    /** Hyperparameters (null for models assembled from parts in tests). */
    public Gemma3Config config() { return config; }

    /** The tokenizer (null for models assembled from parts in tests). */
    public Tokenizer tokenizer() { return tokenizer; }

    /** Time {@link #open} took, in nanoseconds. */
    public long loadNanos() { return loadNanos; }

    /** The BOS token id, or -1. */
    public int bosToken() { return bos; }

    /** A low-level sequence for tools that need every position's logits (the CLI's logits and perplexity). */
    public RawSequence newRawSequence() {
        Inference.Sequence s = inference.newSequence();
        return new RawSequence() {
            @Override public int position() { return s.position(); }

            @Override
            public float[] evaluateAll(int[] ids) {
                synchronized (lock) {
                    return s.evaluateAll(ids);
                }
            }

            @Override
            public void evaluate(int[] ids, float[] logits) {
                synchronized (lock) {
                    s.evaluate(ids, 0, ids.length, logits);
                }
            }

            @Override
            public void evaluateEach(int[] ids, LogitRows sink) {
                synchronized (lock) {
                    s.evaluateEach(ids, sink);
                }
            }

            @Override public void reset() { s.reset(); }
        };
    }

    /** Receives the logits of consecutive positions ({@link RawSequence#evaluateEach}). */
    @FunctionalInterface
    public interface LogitRows {
        /**
         * {@code logits[0 .. rows * vocab)} holds the logits of positions {@code first .. first+rows)} of the ids given
         * (0 = the first), row-major; the array is reused once the call returns.
         */
        void rows(int first, int rows, float[] logits);
    }

    /** Direct access to a sequence: token ids in, logits out. Single-threaded. */
    public interface RawSequence {
        int position();

        /** Logits of every position of {@code ids}, {@code [ids.length][vocab]} row-major. */
        float[] evaluateAll(int[] ids);

        /**
         * Logits of every position of {@code ids}, handed to {@code sink} a few rows at a time: for long contexts,
         * where {@code ids.length * vocab} floats would not fit one array.
         */
        void evaluateEach(int[] ids, LogitRows sink);

        /** Logits of the last position of {@code ids} into {@code logits}. */
        void evaluate(int[] ids, float[] logits);

        void reset();
    }

    Inference inference() { return inference; }

    TextCodec codec() { return codec; }

    Object lock() { return lock; }

    @Override
    public void close() {
        try {
            inference.close();
        } finally {
            if (file != null) file.close();
        }
    }
}
