package org.jgemma.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.lang.ref.Cleaner;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendOptions;
import org.jgemma.backend.Backends;
import org.jgemma.chat.ChatMessage;
import org.jgemma.chat.ChatTemplate;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufFormatException;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.model.Gemma3Config;
import org.jgemma.model.Gemma3Model;
import org.jgemma.ollama.ModelReference;
import org.jgemma.ollama.OllamaStore;
import org.jgemma.tokenizer.Tokenizer;
import org.jgemma.vision.VisionConfig;

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
 * <p><b>Thread-safety.</b> A Model is safe to share between threads: open sessions, tokenize and detokenize from
 * any thread. Each {@link Session} / {@link ChatSession} (and the {@link Generation} it runs) is used by one thread at
 * a time, but different sessions may run on different threads at the same time: their steps go through the model's
 * scheduler, which runs one step at a time on the backend and batches the decode steps of up to
 * {@link ModelOptions#maxParallel()} sessions into one (so N conversations cost far less than N times one).
 * {@link Session#cancel()} and {@link Generation#cancel()} may be called from any thread.
 *
 * <p><b>Memory.</b> A session holds its KV cache until it is closed ({@link Session#close()}); the activations of a
 * step are the model's, shared by all sessions. {@link #allocatedBytes()} tells what the backend holds: after every
 * session is closed it is back to its value after {@link #open}.
 *
 * <p><b>Closing.</b> {@link #close()} may be called from any thread, at any time, more than once (later calls do
 * nothing): requests waiting for a step and every later call fail with {@link ModelClosedException}; a step already
 * running finishes first, so nothing hangs and nothing runs on a closed backend. A model that is never closed is
 * closed when it becomes unreachable (a {@link Cleaner} closes its backend, worker threads and file mapping), but
 * close it explicitly: the garbage collector may take long to notice.
 *
 * <p><b>Errors.</b> Failures are {@link JGemmaException}s (unchecked); {@link #open} also throws {@link IOException}.
 */
public final class Model implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();
    /** Models closed by the Cleaner because they became unreachable unclosed (for tests). */
    static final java.util.concurrent.atomic.AtomicInteger CLEANED = new java.util.concurrent.atomic.AtomicInteger();

    private final Inference inference;
    private final TextCodec codec;
    private final Tokenizer tokenizer; // null for models built from parts (tests)
    private final Gemma3Config config;  // null likewise
    private final GgufFile file;       // null likewise
    private final int bos;
    private final long loadNanos;
    private final StepScheduler scheduler;
    private final Closer closer;
    private final Cleaner.Cleanable cleanable;

    Model(Inference inference, TextCodec codec, int bos, Tokenizer tokenizer, Gemma3Config config, GgufFile file, long loadNanos) {
        this.inference = inference;
        this.codec = codec;
        this.bos = bos;
        this.tokenizer = tokenizer;
        this.config = config;
        this.file = file;
        this.loadNanos = loadNanos;
        this.scheduler = new StepScheduler(inference);
        this.closer = new Closer(scheduler, inference, file);
        this.cleanable = CLEANER.register(this, closer);
    }

    // ---- vision ---------------------------------------------------------------------------------------------

    private Path mmproj;                       // set by useMmproj; null: embedded tower or one found next to the model
    private org.jgemma.gguf.GgufFile visionFile; // the mmproj file, when the tower is not in the model file
    private org.jgemma.vision.VisionModel vision;
    private org.jgemma.vision.ImagePreprocessor.Mode imagePreprocess = org.jgemma.vision.ImagePreprocessor.Mode.PAD;

    private org.jgemma.vision.VisionMemory visionMemory = org.jgemma.vision.VisionMemory.NONE; // what the backend was asked for
    private Path countedMmproj;                // the mmproj file counted at open (null: none, or the tower is in the model file)

    /**
     * What the vision tower adds to this model's memory estimate (its weights and one image's buffers, see
     * {@link org.jgemma.vision.VisionMemory}): counted when the model was opened if the tower was in the file or next to it,
     * else when a tower given to {@link #useMmproj} loads; 0 without one.
     */
    public synchronized long visionBytes() {
        return visionMemory.totalBytes();
    }

    /** {@link #visionBytes()} in its two parts: the tower's weights and one image's buffers. */
    public synchronized org.jgemma.vision.VisionMemory visionMemory() {
        return visionMemory;
    }

    /** Takes the vision tower from llama.cpp's mmproj GGUF {@code file} (before the first image). */
    public synchronized void useMmproj(Path file) {
        if (vision != null) throw new IllegalStateException("the vision tower is already loaded");
        this.mmproj = file;
    }

    /** How non-square images are fitted: {@code PAD} (llama.cpp, Ollama; the default) or {@code STRETCH} (HF transformers). */
    public synchronized void setImagePreprocess(org.jgemma.vision.ImagePreprocessor.Mode mode) {
        this.imagePreprocess = java.util.Objects.requireNonNull(mode, "mode");
    }

    /** Whether this model can take images without further setup (a tower in its file, an mmproj given or next to it). */
    public synchronized boolean hasVision() {
        if (vision != null || mmproj != null) return true;
        if (file == null) return false;
        return org.jgemma.vision.VisionConfig.present(file) || findMmproj(file.path()) != null;
    }

    /**
     * The vision tower, loaded on first use: from the mmproj given to {@link #useMmproj}, else from the model file (an
     * Ollama blob embeds it), else from the one {@code *mmproj*.gguf} file in the model's folder (llama.cpp's naming).
     */
    public synchronized org.jgemma.vision.VisionModel vision() throws IOException {
        if (vision != null) return vision;
        if (file == null) throw new IllegalStateException("images need a model opened from a GGUF file");
        Path p = mmproj;
        if (p == null && org.jgemma.vision.VisionConfig.present(file)) {
            vision = checkWidth(org.jgemma.vision.VisionModel.load(file), file.path());
            return vision;
        }
        if (p == null) p = findMmproj(file.path());
        if (p == null) {
            throw new org.jgemma.model.ModelFormatException(file.path().getFileName() + " has no vision tower (no gemma3.vision.* keys) and"
                    + " no *mmproj*.gguf lies next to it: pass the projector file (--mmproj FILE, Model.useMmproj)");
        }
        org.jgemma.gguf.GgufFile f = org.jgemma.gguf.GgufFile.open(p);
        try {
            if (!p.toAbsolutePath().equals(countedMmproj)) { // not counted at open: the backend is asked now, before it loads
                org.jgemma.vision.VisionMemory need = org.jgemma.vision.VisionMemory.of(f);
                inference.checkFits(need.weightBytes(), need.scratchBytes());
                visionMemory = need;
            }
            vision = checkWidth(org.jgemma.vision.VisionModel.load(f), p);
            visionFile = f;
            return vision;
        } catch (RuntimeException | Error e) {
            f.close();
            throw e;
        }
    }

    private org.jgemma.vision.VisionModel checkWidth(org.jgemma.vision.VisionModel v, Path where) {
        if (config != null && v.config().projDim() != config.nEmbd()) {
            throw new org.jgemma.model.ModelFormatException(where.getFileName() + ": the vision projector outputs " + v.config().projDim()
                    + " values per image token, but the text model's width is " + config.nEmbd() + " (a projector for another model?)");
        }
        return v;
    }

    /** The one {@code *mmproj*.gguf} in the folder of {@code model} (not the model itself), or null. */
    static Path findMmproj(Path model) {
        if (model == null || model.toAbsolutePath().getParent() == null) return null;
        try (var s = Files.list(model.toAbsolutePath().getParent())) {
            List<Path> found = s.filter(q -> {
                String n = q.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
                return n.contains("mmproj") && n.endsWith(".gguf") && !q.equals(model.toAbsolutePath()) && Files.isRegularFile(q);
            }).toList();
            return found.size() == 1 ? found.get(0) : null;
        } catch (IOException | SecurityException e) {
            return null;
        }
    }

    /** The image's soft-token embeddings {@code [n_tokens][n_embd]} (preprocessed as {@link #setImagePreprocess} says). */
    public float[][] encodeImage(org.jgemma.vision.RgbImage image) {
        org.jgemma.vision.VisionModel v;
        org.jgemma.vision.ImagePreprocessor.Mode mode;
        try {
            synchronized (this) {
                v = vision();
                mode = imagePreprocess;
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read the vision projector: " + e.getMessage(), e);
        }
        return v.encode(image, mode);
    }

    /**
     * The token ids of a conversation with images, rendered and cut as llama-mtmd-cli does (with the model turn opened):
     * image soft tokens are negative placeholder ids, and {@code imagesOut} receives each image's embeddings under its
     * first placeholder (the image runs from there for {@code embeddings.length} ids).
     */
    public int[] encodeChat(List<ChatMessage> conversation, java.util.Map<Integer, float[][]> imagesOut) {
        return ImagePrompt.encode(this, conversation, false, ImagePrompt.newCache(), imagesOut);
    }

    synchronized void closeVision() {
        if (vision != null) vision.close(); // its CPU backend (worker threads, activations)
        if (visionFile != null) visionFile.close();
        visionFile = null;
        vision = null;
    }

    /** Closes the scheduler, then the backend, then the file; must not refer to the Model (the Cleaner runs it). */
    private static final class Closer implements Runnable {
        private final StepScheduler scheduler;
        private final Inference inference;
        private final GgufFile file;
        volatile boolean explicit;

        Closer(StepScheduler scheduler, Inference inference, GgufFile file) {
            this.scheduler = scheduler;
            this.inference = inference;
            this.file = file;
        }

        @Override
        public void run() {
            if (!scheduler.close()) return;
            if (!explicit) CLEANED.incrementAndGet();
            try {
                inference.close();
            } finally {
                if (file != null) file.close();
            }
        }
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
     * @throws NoSuchFileException when it is neither a file nor a model in a store (the message says what was searched)
     * @throws IOException when it is a directory, or its Ollama manifest is broken
     */
    public static Path resolve(String fileOrReference) throws IOException {
        return resolve(fileOrReference, OllamaStore.standard());
    }

    /**
     * As {@link #resolve(String)}, looking in {@code store}. For the Ollama manifest's other layers (default options,
     * system prompt, template, license) use {@link ModelReference#resolve(String, OllamaStore)}.
     */
    public static Path resolve(String fileOrReference, OllamaStore store) throws IOException {
        return ModelReference.resolve(fileOrReference, store).path();
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
        GgufFile file = GgufFile.open(path, options.mmap());
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
            int batch = options.batchSize() > 0 ? Math.min(options.batchSize(), ctx) : Math.min(512, ctx);
            Path mmproj = VisionConfig.present(file) ? null : findMmproj(path);
            org.jgemma.vision.VisionMemory vision = visionAtOpen(file, mmproj);
            Gemma3Model model = Gemma3Model.load(file, backend, new Gemma3Model.Options(ctx, batch, false), vision);
            Model m = new Model(new Gemma3Inference(model, backend, options.effectiveMaxParallel()), new TokenizerCodec(tokenizer, template), tokenizer.bosId(), tokenizer,
                    config, file, System.nanoTime() - t0);
            m.visionMemory = vision;
            m.countedMmproj = vision.totalBytes() > 0 && mmproj != null ? mmproj.toAbsolutePath() : null;
            return m;
        } catch (GgufFormatException e) {
            closeQuietly(backend, file);
            throw new GgufFormatException(path + ": " + e.getMessage(), e.offset());
        } catch (RuntimeException | Error e) {
            closeQuietly(backend, file);
            throw e;
        }
    }

    /**
     * The vision tower that will be used beside the model, for the memory estimate: the one in the model file (an Ollama
     * blob), else the {@code *mmproj*.gguf} next to it. A projector that cannot be read counts nothing here: the text
     * model still opens, and the projector's error comes with the first image.
     */
    private static org.jgemma.vision.VisionMemory visionAtOpen(GgufFile file, Path mmproj) {
        try {
            if (VisionConfig.present(file)) return org.jgemma.vision.VisionMemory.of(file);
            if (mmproj == null) return org.jgemma.vision.VisionMemory.NONE;
            try (GgufFile f = GgufFile.open(mmproj)) {
                return org.jgemma.vision.VisionMemory.of(f);
            }
        } catch (IOException | RuntimeException e) {
            return org.jgemma.vision.VisionMemory.NONE;
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

    /** How often, at most, {@link #checkFileUnchangedSoon} looks at the file during a request: one stat per 10 ms. */
    static final long FILE_CHECK_INTERVAL_NANOS = 10_000_000L;

    /** System.nanoTime() from which {@link #checkFileUnchangedSoon} looks again (racy on purpose: a check more or less). */
    private volatile long nextFileCheck = Long.MIN_VALUE;

    /**
     * Refuses a request when the mapped file changed on disk since it was opened (size or modification time): reading
     * a truncated mapping can crash the JVM (SIGBUS). A model opened with {@code withMmap(false)} holds its own copy.
     * Called before every request; {@link #checkFileUnchangedSoon} during one.
     */
    void checkFileUnchanged() {
        if (file == null || !file.isMapped()) return;
        nextFileCheck = System.nanoTime() + FILE_CHECK_INTERVAL_NANOS;
        file.changedOnDisk().ifPresent(why -> {
            throw new JGemmaException("model file " + file.path() + " changed on disk since it was opened (" + why
                    + "); it is memory-mapped, so reading it now could crash the process: open the model again, or open it"
                    + " with ModelOptions.withMmap(false) / --no-mmap to hold the weights in memory");
        });
    }

    /**
     * {@link #checkFileUnchanged} during a request: before each prompt chunk and each generated token, at most once per
     * {@value #FILE_CHECK_INTERVAL_NANOS} ns (a stat costs microseconds; a step of a real model milliseconds). It narrows
     * the window in which a file changed underneath can crash the process; it cannot close it (a change during a step).
     */
    void checkFileUnchangedSoon() {
        if (file == null || !file.isMapped() || System.nanoTime() - nextFileCheck < 0) return;
        checkFileUnchanged();
    }

    /** A new completion session with its own KV cache (allocated now; {@link Session#close()} frees it). */
    public Session newSession() {
        return new Session(this, newSequence());
    }

    /** A sequence allocated on the backend while no step runs there. */
    Inference.Sequence newSequence() {
        Inference.Sequence[] made = new Inference.Sequence[1];
        scheduler.exclusive(() -> made[0] = inference.newSequence());
        return made[0];
    }

    /** Frees a sequence while no step runs; nothing to do once the model is closed (the backend freed everything). */
    void freeSequence(Inference.Sequence s) {
        if (scheduler.isClosed()) return;
        try {
            scheduler.exclusive(s::close);
        } catch (ModelClosedException ignored) {
            // closed meanwhile: the backend's close freed it
        }
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
        return continueChat(systemPrompt == null || systemPrompt.isEmpty() ? List.of() : List.of(ChatMessage.system(systemPrompt)),
                parseSpecialInContent);
    }

    public ChatSession newChat() {
        return newChat((String) null);
    }

    /**
     * A chat that continues {@code history} (system, user and assistant messages, as a stateless HTTP API sends
     * them): nothing is evaluated until the next {@link ChatSession#send}, which evaluates the history and the new
     * message together. See {@link ChatSession#send(List, GenerationOptions, TokenListener)} to answer a whole
     * message list, reusing the KV cache of what this chat has evaluated already.
     */
    public ChatSession continueChat(List<ChatMessage> history) {
        return continueChat(history, false);
    }

    public ChatSession continueChat(List<ChatMessage> history, boolean parseSpecialInContent) {
        return new ChatSession(newSession(), history, parseSpecialInContent);
    }

    /** One-shot: a fresh session generates from {@code prompt} (BOS added, special tokens parsed), then is closed. */
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

    /** Bytes the backend holds now (weights it copied, the shared activations, every open session's KV cache). */
    public long allocatedBytes() { return inference.allocatedBytes(); }

    /** Most sessions whose decode steps share one batched step. */
    public int maxParallel() { return scheduler.maxParallel(); }

    /** Most prompt tokens evaluated in one step (a prompt goes in chunks of this size). */
    public int batchSize() { return inference.batchSize(); }

    /**
     * Steps run so far (prompt chunks, allocations and decode steps), the decode rows in them, and the decode steps:
     * rows / decode steps is the mean decode batch. For benchmarks and servers' statistics.
     */
    public long[] stepStatistics() { return scheduler.statistics(); }

    /** Whether {@link #close()} was called (or the model was cleaned). */
    public boolean isClosed() { return scheduler.isClosed(); }

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

    /** A low-level sequence for tools that need every position's logits (the CLI's logits and perplexity). Close it. */
    public RawSequence newRawSequence() {
        Inference.Sequence s = newSequence();
        return new RawSequence() {
            private boolean closed;

            @Override public int position() { return s.position(); }

            @Override
            public float[] evaluateAll(int[] ids) {
                float[][] r = new float[1][];
                scheduler.exclusive(() -> r[0] = s.evaluateAll(ids));
                return r[0];
            }

            @Override
            public void evaluate(int[] ids, float[] logits) {
                scheduler.evaluate(s, ids, 0, ids.length, logits);
            }

            @Override
            public void evaluateEach(int[] ids, LogitRows sink) {
                scheduler.exclusive(() -> s.evaluateEach(ids, sink));
            }

            @Override
            public void evaluateImage(float[][] embeddings) {
                scheduler.exclusive(() -> s.evaluateImage(embeddings));
            }

            @Override public void reset() { s.reset(); }

            @Override
            public void close() {
                if (closed) return;
                closed = true;
                freeSequence(s);
            }
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

    /** Direct access to a sequence: token ids in, logits out. One thread at a time; close it to free its KV cache. */
    public interface RawSequence extends AutoCloseable {
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

        /**
         * One image's soft-token embeddings ({@link #encodeImage}) at the next positions, bidirectional among themselves
         * (as llama.cpp decodes a Gemma 3 image chunk); no logits.
         */
        default void evaluateImage(float[][] embeddings) {
            throw new UnsupportedOperationException("this sequence cannot evaluate images");
        }

        void reset();

        @Override
        void close();
    }

    Inference inference() { return inference; }

    TextCodec codec() { return codec; }

    StepScheduler scheduler() { return scheduler; }

    /**
     * Closes the model: waiting and later requests fail with {@link ModelClosedException}, a running step finishes
     * first, then the backend and the file mapping are released. Safe from any thread; a second call does nothing.
     */
    @Override
    public void close() {
        closeVision();
        closer.explicit = true;
        cleanable.clean();
    }
}
