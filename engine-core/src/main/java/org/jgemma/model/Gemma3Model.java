package org.jgemma.model;

import java.util.List;
import java.util.Objects;
import org.jgemma.backend.Backend;
import org.jgemma.backend.Buffer;
import org.jgemma.backend.IntBuffer;
import org.jgemma.backend.KvBuffer;
import org.jgemma.gguf.GgufFile;

/**
 * A gemma3 text model on a backend: the config, the resident weights, and the forward pass expressed in Backend SPI ops
 * only, so every backend runs the same model. Every Gemma 3 peculiarity lives here and in {@link Gemma3Config}
 * (STYLE 12); the order of operations is llama.cpp's src/models/gemma3.cpp (FACTS §3.4). Per-sequence mutable state
 * (KV cache, activations) lives in a {@link Session}.
 */
public final class Gemma3Model {

    /**
     * How to run the model.
     *
     * @param contextLength  maximum sequence length (1 .. the model's context_length)
     * @param batch          most tokens processed in one step (prompts go in chunks of this size)
     * @param fullSwaCache   give sliding-window layers a full-length cache instead of window + batch slots (tests, debugging)
     */
    public record Options(int contextLength, int batch, boolean fullSwaCache) {
        public static Options of(int contextLength) {
            return new Options(contextLength, Math.min(512, contextLength), false);
        }
    }

    /** Receives named intermediates of the forward pass (llama.cpp's names; layer -1 outside the blocks). */
    @FunctionalInterface
    public interface DebugHook {
        /** {@code buffer} holds {@code rows} rows of {@code cols} floats; read it with the model's backend. */
        void tensor(String name, int layer, Buffer buffer, int rows, int cols);
    }

    private final Gemma3Config config;
    private final Gemma3Weights weights;
    private final Backend backend;
    private final Options options;
    private final float embedScale;

    private Gemma3Model(Gemma3Config config, Gemma3Weights weights, Backend backend, Options options) {
        this.config = config;
        this.weights = weights;
        this.backend = backend;
        this.options = options;
        this.embedScale = (float) Math.sqrt((float) config.nEmbd()); // sqrtf((float) n_embd)
        this.ws = new Workspace();
    }

    /** Loads {@code f} onto {@code backend} with a context of {@code contextLength} tokens. */
    public static Gemma3Model load(GgufFile f, Backend backend, int contextLength) {
        return load(f, backend, Options.of(contextLength));
    }

    public static Gemma3Model load(GgufFile f, Backend backend, Options options) {
        return load(f, backend, options, org.jgemma.vision.VisionMemory.NONE);
    }

    /**
     * As {@link #load(GgufFile, Backend, Options)}, with a vision tower that will be used beside the model: its weights
     * and one image's buffers ({@code vision}) count in the memory the backend is asked for before anything is uploaded.
     */
    public static Gemma3Model load(GgufFile f, Backend backend, Options options, org.jgemma.vision.VisionMemory vision) {
        Gemma3Config c = Gemma3Config.from(f);
        c.checkTensors(f); // before anything is sized from the config
        if (options.contextLength() < 1 || options.contextLength() > c.contextLength()) {
            throw new IllegalArgumentException("context length " + options.contextLength() + " outside [1, " + c.contextLength()
                    + "] (the model's gemma3.context_length)");
        }
        if (options.batch() < 1 || options.batch() > options.contextLength()) {
            throw new IllegalArgumentException("batch " + options.batch() + " outside [1, context length " + options.contextLength() + "]");
        }
        MemoryEstimate need = estimate(f, c, options).plus(vision);
        backend.checkFits(need.weightBytes(), need.kvElements(), need.scratchBytes());
        return new Gemma3Model(c, Gemma3Weights.load(f, c, backend), backend, options);
    }

    /**
     * What one session of a model needs: packed weight bytes, KV cache elements (K and V, all layers; the element
     * size is the backend's) and scratch bytes for the activations. What the loader asks the backend for.
     */
    public record MemoryEstimate(long weightBytes, long kvElements, long scratchBytes) {
        /** This estimate with a vision tower's weights and one image's buffers added. */
        public MemoryEstimate plus(org.jgemma.vision.VisionMemory vision) {
            return new MemoryEstimate(Math.addExact(weightBytes, vision.weightBytes()), kvElements,
                    Math.addExact(scratchBytes, vision.scratchBytes()));
        }
    }

    /** The memory {@link #load} asks the backend for ({@link Backend#checkFits}), without loading anything. */
    public static MemoryEstimate estimate(GgufFile f, Options options) {
        return estimate(f, Gemma3Config.from(f), options);
    }

    /** The text model's part: the vision tower's tensors (v.*, mm.*) are left out, {@link MemoryEstimate#plus} adds them. */
    private static MemoryEstimate estimate(GgufFile f, Gemma3Config c, Options options) {
        long weights = 0;
        for (var t : f.tensors()) {
            if (!t.name().startsWith("v.") && !t.name().startsWith("mm.")) weights += t.byteSize();
        }
        long kv = 0;
        for (int il = 0; il < c.nLayer(); il++) kv += 2L * kvSlots(c, options, il) * c.kvDim();
        long b = options.batch(), l = Math.min(b, LOGIT_ROWS);
        long floats = b * (3L * c.nEmbd() + 2L * c.qDim() + 2L * c.kvDim() + 2L * c.nFf()) + l * ((long) c.nEmbd() + c.nVocab());
        return new MemoryEstimate(weights, kv, 4 * floats);
    }

    public Gemma3Config config() { return config; }
    public Gemma3Weights weights() { return weights; }
    public Backend backend() { return backend; }
    public Options options() { return options; }
    public int contextLength() { return options.contextLength(); }
    public int vocabSize() { return config.nVocab(); }

    /** A new sequence with its own KV cache and activations, at position 0. */
    public Session newSession() {
        return new Session();
    }

    /** KV slots for layer {@code il}: the full context on global layers, window + batch on local ones (slot = pos % slots). */
    int kvSlots(int il) {
        return kvSlots(config, options, il);
    }

    private static int kvSlots(Gemma3Config config, Options options, int il) {
        int ctx = options.contextLength();
        if (!config.isLocal(il) || options.fullSwaCache()) return ctx;
        return (int) Math.min(ctx, (long) config.slidingWindow() + options.batch()); // long: a window near 2^31 must not wrap
    }

    /** Rows of logits computed at once when all positions' logits are asked for; also the most sequences per step. */
    private static final int LOGIT_ROWS = 8;

    /** Most sequences {@link #decodeBatch} advances in one step. */
    public static final int MAX_PARALLEL = LOGIT_ROWS;

    /**
     * Activations of one step, shared by all sessions (steps run one at a time, and none keeps anything in them
     * between steps): allocated at load, freed by {@link #close}, so a session owns only its KV cache.
     */
    private final class Workspace {
        final int B = options.batch();
        final int L = Math.min(B, LOGIT_ROWS);
        final IntBuffer tokens = backend.allocateInts(B, "tokens");              // [B]
        final IntBuffer positions = backend.allocateInts(B, "positions");        // [B] of a multi-sequence step
        final IntBuffer sampled = backend.allocateInts(1, "sampled");            // [1]
        final Buffer x = backend.allocate((long) B * config.nEmbd(), "x");        // [B][n_embd] residual stream
        final Buffer h = backend.allocate((long) B * config.nEmbd(), "h");        // [B][n_embd] normed input
        final Buffer q = backend.allocate((long) B * config.qDim(), "q");         // [B][n_head][hd]
        final Buffer k = backend.allocate((long) B * config.kvDim(), "k");        // [B][n_head_kv][hd]
        final Buffer v = backend.allocate((long) B * config.kvDim(), "v");        // [B][n_head_kv][hd]
        final Buffer attn = backend.allocate((long) B * config.qDim(), "kqv");    // [B][n_head][hd]
        final Buffer a = backend.allocate((long) B * config.nEmbd(), "a");        // [B][n_embd] block output
        final Buffer gate = backend.allocate((long) B * config.nFf(), "gate");    // [B][n_ff]
        final Buffer up = backend.allocate((long) B * config.nFf(), "up");        // [B][n_ff]
        final Buffer outIn = backend.allocate((long) L * config.nEmbd(), "result_norm"); // [L][n_embd]
        final Buffer logits = backend.allocate((long) L * config.nVocab(), "logits");   // [L][n_vocab]
        // one sequence's row of a multi-sequence step, at row 0 (attention and the KV append stay per sequence)
        final Buffer q1 = backend.allocate(config.qDim(), "q.seq");               // [n_head][hd]
        final Buffer k1 = backend.allocate(config.kvDim(), "k.seq");              // [n_head_kv][hd]
        final Buffer v1 = backend.allocate(config.kvDim(), "v.seq");              // [n_head_kv][hd]
        final Buffer attn1 = backend.allocate(config.qDim(), "kqv.seq");          // [n_head][hd]
        final int[] posHost = new int[B];

        void free() {
            for (var m : new org.jgemma.backend.Allocation[] {tokens, positions, sampled, x, h, q, k, v, attn, a, gate, up,
                    outIn, logits, q1, k1, v1, attn1}) {
                backend.free(m);
            }
        }
    }

    private Workspace ws;

    private Workspace ws() {
        if (ws == null) throw new IllegalStateException("the model was closed");
        return ws;
    }

    /** Frees the shared activations (the weights stay with the backend, which the caller closes). Idempotent. */
    public void close() {
        if (ws != null) ws.free();
        ws = null;
    }

    /**
     * One decode step for several sequences at once: sequence {@code seqs[i]} (all distinct) takes token
     * {@code tokens[i]} at its next position, and its logits go to {@code out[i][0 .. n_vocab)}. The matmuls run over
     * the stacked rows, so each weight byte is read once for all of them; the KV append and attention stay per sequence.
     * Each row is computed as it would be alone (the same ops on the same values), so the results equal
     * {@link Session#forward} one sequence at a time wherever the backend's ops compute rows independently.
     */
    public void decodeBatch(Session[] seqs, int[] tokens, int count, float[][] out) {
        if (count < 1 || count > MAX_PARALLEL || count > seqs.length || count > tokens.length || count > out.length) {
            throw new IllegalArgumentException("decodeBatch of " + count + " sequences (1 .. " + MAX_PARALLEL + ")");
        }
        if (count == 1) {
            seqs[0].forward(tokens, 0, 1, out[0]);
            return;
        }
        Workspace w = ws();
        int nv = config.nVocab();
        for (int i = 0; i < count; i++) {
            Session s = seqs[i];
            s.checkOpen();
            for (int j = 0; j < i; j++) if (seqs[j] == s) throw new IllegalArgumentException("decodeBatch: a sequence appears twice");
            s.checkFits(tokens, i, 1);
            if (out[i].length < nv) throw new IllegalArgumentException("logits array of " + out[i].length + " floats, need " + nv);
            w.posHost[i] = s.position;
            s.one[0] = s.position;
            backend.writeInts(s.positions, s.one, 1);
        }
        backend.writeInts(w.tokens, tokens, count);
        backend.writeInts(w.positions, w.posHost, count);
        blocks(w, count, seqs); // not recorded: the set of sequences changes from step to step
        backend.matmul(weights.output(), w.h, count, w.logits); // h = rmsNorm(x)·output_norm, left by the fused blocks
        if (config.finalLogitSoftcap() > 0) backend.softcap(w.logits, (long) count * nv, config.finalLogitSoftcap());
        for (int i = 0; i < count; i++) {
            backend.read(w.logits, (long) i * nv, out[i], 0, nv);
            Session s = seqs[i];
            s.position++;
            s.highWater = Math.max(s.highWater, s.position);
        }
    }

    /** The gemma3 blocks on n tokens (FACTS §3.4, steps 1-12); {@code seqs} null: all n rows are one sequence's. */
    private void blocks(Workspace w, int n, Session[] seqs) {
        Gemma3Config c = config;
        int ne = c.nEmbd(), hd = c.headDim();
        float eps = c.eps();
        DebugHook hook = seqs == null ? seqs0hook : null;
        IntBuffer positions = seqs == null ? seqs0.positions : w.positions;
        if (seqs == null && seqs0Embd != null) {
            backend.write(w.x, 0, seqs0Embd, 0, n * ne);  // image soft tokens: the projector's output, not scaled (gemma3.cpp scales token ids only)
        } else {
            backend.embed(weights.tokenEmbd(), w.tokens, n, embedScale, w.x);             // x = embd[tok] * sqrt(n_embd)
        }
        dump(hook, "inp_scaled", -1, w.x, n, ne);
        // Without a debug hook the fused ops run (Backend#qkNormRopeAppend, #rmsNormAddNorm, #matmulGeglu: the same
        // ops composed by default, one launch each on CUDA); with one, every intermediate is computed and dumped apart.
        boolean fused = hook == null;
        if (fused) backend.rmsNorm(w.x, weights.layers().getFirst().attnNorm(), n, ne, eps, w.h);
        for (int il = 0; il < c.nLayer(); il++) {
            Gemma3Weights.Layer l = weights.layers().get(il);
            if (!fused) backend.rmsNorm(w.x, l.attnNorm(), n, ne, eps, w.h);                // fused: done by the step before
            dump(hook, "attn_norm", il, w.h, n, ne);
            backend.matmul3(l.wq(), l.wk(), l.wv(), w.h, n, w.q, w.k, w.v);
            dump(hook, "Qcur", il, w.q, n, c.qDim());
            dump(hook, "Kcur", il, w.k, n, c.kvDim());
            dump(hook, "Vcur", il, w.v, n, c.kvDim());
            if (fused) {
                backend.qkNormRopeAppend(w.q, w.k, w.v, l.qNorm(), l.kNorm(), n, c.nHead(), c.nHeadKv(), hd, eps, positions,
                        c.ropeBase(il), c.ropeScale(il), seqs == null ? seqs0.kv[il] : null);
            } else {
                backend.rmsNorm(w.q, l.qNorm(), n * c.nHead(), hd, eps, w.q);              // QK-norm per head, before RoPE
                backend.rmsNorm(w.k, l.kNorm(), n * c.nHeadKv(), hd, eps, w.k);
                dump(hook, "Qcur_normed", il, w.q, n, c.qDim());
                dump(hook, "Kcur_normed", il, w.k, n, c.kvDim());
                backend.rope(w.q, n, c.nHead(), hd, positions, c.ropeBase(il), c.ropeScale(il));
                backend.rope(w.k, n, c.nHeadKv(), hd, positions, c.ropeBase(il), c.ropeScale(il));
                dump(hook, "Qcur_rope", il, w.q, n, c.qDim());
                dump(hook, "Kcur_rope", il, w.k, n, c.kvDim());
            }
            if (seqs == null) {
                if (!fused) backend.kvAppend(w.k, w.v, n, positions, seqs0.kv[il]);
                if (seqs0Horizon < 0) {
                    backend.attention(w.q, seqs0.kv[il], n, positions, c.nHead(), c.nHeadKv(), hd, c.window(il), c.attentionScale(), w.attn);
                } else { // an image chunk: bidirectional (forwardImage checked Op.ATTENTION_NON_CAUSAL)
                    backend.attentionNonCausal(w.q, seqs0.kv[il], n, positions, c.nHead(), c.nHeadKv(), hd, c.window(il),
                            c.attentionScale(), seqs0Horizon, w.attn);
                }
            } else {
                for (int i = 0; i < n; i++) { // one row per sequence, moved to row 0 of the .seq buffers and back
                    Session s = seqs[i];
                    backend.copy(w.k, (long) i * c.kvDim(), w.k1, 0, c.kvDim());
                    backend.copy(w.v, (long) i * c.kvDim(), w.v1, 0, c.kvDim());
                    backend.copy(w.q, (long) i * c.qDim(), w.q1, 0, c.qDim());
                    backend.kvAppend(w.k1, w.v1, 1, s.positions, s.kv[il]);
                    backend.attention(w.q1, s.kv[il], 1, s.positions, c.nHead(), c.nHeadKv(), hd, c.window(il), c.attentionScale(), w.attn1);
                    backend.copy(w.attn1, 0, w.attn, (long) i * c.qDim(), c.qDim());
                }
            }
            dump(hook, "kqv_out", il, w.attn, n, c.qDim());
            backend.matmul(l.wo(), w.attn, n, w.a);
            dump(hook, "attn_out", il, w.a, n, ne);
            if (fused) {                                                                      // post-norm, residual, ffn norm
                backend.rmsNormAddNorm(w.a, l.postAttnNorm(), w.x, l.ffnNorm(), n, ne, eps, w.h);
                backend.matmulGeglu(l.ffnGate(), l.ffnUp(), w.h, n, w.gate, w.up);
            } else {
                backend.rmsNorm(w.a, l.postAttnNorm(), n, ne, eps, w.a);                   // sandwich norm
                dump(hook, "attn_post_norm", il, w.a, n, ne);
                backend.add(w.x, w.a, (long) n * ne);
                dump(hook, "sa_out", il, w.x, n, ne);
                backend.rmsNorm(w.x, l.ffnNorm(), n, ne, eps, w.h);
                dump(hook, "ffn_norm", il, w.h, n, ne);
                backend.matmul2(l.ffnGate(), l.ffnUp(), w.h, n, w.gate, w.up);
                backend.geglu(w.gate, w.up, (long) n * c.nFf(), w.gate);                      // gelu_tanh(gate) * up
                dump(hook, "ffn_geglu", il, w.gate, n, c.nFf());
            }
            backend.matmul(l.ffnDown(), w.gate, n, w.a);
            dump(hook, "ffn_out", il, w.a, n, ne);
            if (fused) { // post-norm, residual, and the next block's input norm (after the last block: the output norm)
                var next = il + 1 < c.nLayer() ? weights.layers().get(il + 1).attnNorm() : weights.outputNorm();
                backend.rmsNormAddNorm(w.a, l.postFfnNorm(), w.x, next, n, ne, eps, w.h);
            } else {
                backend.rmsNorm(w.a, l.postFfnNorm(), n, ne, eps, w.a);
                dump(hook, "ffn_post_norm", il, w.a, n, ne);
                backend.add(w.x, w.a, (long) n * ne);
                dump(hook, "l_out", il, w.x, n, ne);
            }
        }
    }

    private static void dump(DebugHook hook, String name, int layer, Buffer buf, int rows, int cols) {
        if (hook != null) hook.tensor(name, layer, buf, rows, cols);
    }

    // the session whose single-sequence step is running (blocks reads its KV cache, positions and hook)
    private Session seqs0;
    private DebugHook seqs0hook;
    // an image chunk's step: its embeddings [n][n_embd] instead of token ids, and the last position all its rows see (-1: none)
    private float[] seqs0Embd;
    private int seqs0Horizon = -1;

    /** One sequence: its KV cache and positions on the backend (activations are the model's). Not thread-safe. */
    public final class Session implements AutoCloseable {
        private final int B = options.batch();
        private final IntBuffer positions = backend.allocateInts(B, "positions");  // [B] this sequence's step positions
        private final KvBuffer[] kv = new KvBuffer[config.nLayer()];
        private final int[] posHost = new int[B];
        private final int[] one = new int[1];
        /** The key its one-token decode step is recorded under (the only step recorded: it repeats every token). */
        private final Object decodeKey = new Object() {
            @Override public String toString() { return "decode@" + Integer.toHexString(System.identityHashCode(Session.this)); }
        };
        private boolean recorded, closed;
        private int position;
        private int highWater; // 1 + the highest position written to the KV cache since reset
        private DebugHook hook;

        private Session() {
            int made = 0;
            try {
                for (int il = 0; il < kv.length; il++, made++) kv[il] = backend.allocateKv(kvSlots(il), config.kvDim(), "kv." + il);
            } catch (RuntimeException | Error e) {
                for (int il = 0; il < made; il++) backend.free(kv[il]);
                backend.free(positions);
                throw e;
            }
        }

        /** Gives back its KV cache and recorded step. Idempotent; the session cannot be used afterwards. */
        @Override
        public void close() {
            if (closed) return;
            closed = true;
            if (recorded) backend.forgetStep(decodeKey);
            for (KvBuffer b : kv) if (b != null) backend.free(b);
            backend.free(positions);
        }

        public boolean isClosed() { return closed; }

        private void checkOpen() {
            if (closed) throw new IllegalStateException("the sequence was closed");
        }

        public Gemma3Model model() { return Gemma3Model.this; }

        /** Number of tokens processed so far (the position of the next token). */
        public int position() { return position; }

        /** Starts the sequence again at position 0 (the cache is overwritten as positions are reused). */
        public void reset() {
            position = 0;
            highWater = 0;
        }

        /**
         * Whether {@link #truncate} to {@code newPosition} keeps a valid cache. Global layers keep every position, so
         * any rewind is fine there; a sliding-window layer's ring of S slots (slot = pos % S) has lost position q once
         * q + S was written, and a query at {@code newPosition} needs positions {@code (newPosition - window, newPosition)}:
         * safe while {@code highWater - newPosition <= S - window + 1} on every local layer.
         */
        public boolean canTruncate(int newPosition) {
            if (newPosition < 0 || newPosition > position) return false;
            for (int il = 0; il < config.nLayer(); il++) {
                int w = config.window(il);
                if (w > 0 && highWater - newPosition > kvSlots(il) - w + 1) return false;
            }
            return true;
        }

        /**
         * Forgets the positions from {@code newPosition} on: the next token goes to {@code newPosition}, reusing the
         * cache of the positions before it (stale entries beyond are overwritten before any query can see them).
         *
         * @throws IllegalArgumentException if {@link #canTruncate} says the sliding-window cache no longer holds what
         *     the next position needs (then {@link #reset} and evaluate again)
         */
        public void truncate(int newPosition) {
            if (!canTruncate(newPosition)) {
                throw new IllegalArgumentException("cannot rewind from position " + position + " (high-water mark " + highWater
                        + ") to " + newPosition + ": the sliding-window cache has overwritten positions it needs; reset instead");
            }
            position = newPosition;
        }

        /** Sets (or clears, with null) the hook that sees every named intermediate; steps then run without recording. */
        public void setDebugHook(DebugHook hook) { this.hook = hook; }

        /**
         * Runs {@code ids} at the next positions (in chunks of up to {@code batch}) and returns logits: of every position
         * ({@code [ids.length][n_vocab]} row-major) if {@code allLogits}, else of the last one ({@code [n_vocab]}).
         */
        public float[] forward(int[] ids, boolean allLogits) {
            int nv = config.nVocab();
            if (!allLogits) {
                float[] out = new float[nv];
                forward(ids, 0, ids.length, out);
                return out;
            }
            long total = (long) ids.length * nv;
            if (total > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException(ids.length + " positions x " + nv + " logits = " + total
                        + " floats do not fit one array; use forwardEach to receive them a few rows at a time");
            }
            float[] out = new float[(int) total];
            forwardEach(ids, (pos, rows, buf) -> System.arraycopy(buf, 0, out, pos * nv, rows * nv));
            return out;
        }

        /** Receives the logits of consecutive positions of a {@link #forwardEach} call. */
        @FunctionalInterface
        public interface LogitRows {
            /**
             * {@code buf[0 .. rows * n_vocab)} holds the logits of positions {@code first .. first+rows) of the ids
             * (0 = the first id), row-major; {@code buf} is reused after the call returns.
             */
            void rows(int first, int rows, float[] buf);
        }

        /**
         * Runs {@code ids} and hands the logits of every position to {@code sink}, at most a few rows at a time, so a
         * long context never needs {@code ids.length * n_vocab} floats at once (8192 x 262144 would not fit an array).
         */
        public void forwardEach(int[] ids, LogitRows sink) {
            checkFits(ids, 0, ids.length);
            int ne = config.nEmbd(), nv = config.nVocab();
            float[] buf = null;
            for (int s = 0; s < ids.length; s += B) {
                int n = Math.min(B, ids.length - s);
                runLayers(ids, s, n, false);
                Workspace w = ws();
                if (buf == null) buf = new float[w.L * nv];
                backend.rmsNorm(w.x, weights.outputNorm(), n, ne, config.eps(), w.h);
                dump(hook, "result_norm", -1, w.h, n, ne);
                for (int r = 0; r < n; r += w.L) {
                    int m = Math.min(w.L, n - r);
                    backend.copy(w.h, (long) r * ne, w.outIn, 0, (long) m * ne);
                    backend.matmul(weights.output(), w.outIn, m, w.logits);
                    if (config.finalLogitSoftcap() > 0) backend.softcap(w.logits, (long) m * nv, config.finalLogitSoftcap());
                    dump(hook, "result_output", -1, w.logits, m, nv);
                    backend.read(w.logits, 0, buf, 0, m * nv);
                    sink.rows(s + r, m, buf);
                }
            }
        }

        /**
         * Runs {@code ids[off .. off+n)} at the next positions and writes the last one's logits into
         * {@code out[0 .. n_vocab)}. Allocates nothing: the generation loop calls this once per token.
         */
        public void forward(int[] ids, int off, int n, float[] out) {
            checkFits(ids, off, n);
            int nv = config.nVocab();
            if (out.length < nv) throw new IllegalArgumentException("logits array of " + out.length + " floats, need " + nv);
            for (int s = off; s < off + n; s += B) {
                int m = Math.min(B, off + n - s);
                boolean last = s + m == off + n;
                runLayers(ids, s, m, last);
                if (last) backend.read(ws().logits, 0, out, 0, nv);
            }
        }

        /**
         * Runs one image's soft-token embeddings ({@code embd[n][n_embd]}, the vision tower's output, not scaled) at the
         * next n positions, with bidirectional attention among them: each sees the text before it and the whole image, as
         * llama.cpp decodes a Gemma 3 image chunk (causal attention off; mtmd_decode_use_non_causal) and HF masks it
         * (token_type_ids). The image goes in one step, so n must not exceed the batch size (llama.cpp likewise needs
         * n_ubatch >= the image's tokens for a non-causal chunk). The caller surrounds it with {@code <start_of_image>}
         * and {@code <end_of_image>} tokens; no logits are computed.
         */
        public void forwardImage(float[][] embd) {
            checkOpen();
            int n = embd.length, ne = config.nEmbd();
            if (n < 1 || n > B) {
                throw new IllegalArgumentException("an image of " + n + " tokens: 1 .. the batch size " + B + " (one step, non-causal)");
            }
            if ((long) position + n > options.contextLength()) {
                throw new IllegalArgumentException("an image of " + n + " tokens at position " + position + " does not fit the context of "
                        + options.contextLength() + " tokens (" + (options.contextLength() - position) + " left)");
            }
            float[] flat = new float[n * ne];
            for (int t = 0; t < n; t++) {
                if (embd[t].length != ne) {
                    throw new IllegalArgumentException("image embedding row " + t + " has " + embd[t].length + " values, the model's width is " + ne);
                }
                for (int j = 0; j < ne; j++) {
                    if (!Float.isFinite(embd[t][j])) throw new IllegalArgumentException("image embedding [" + t + "][" + j + "] is " + embd[t][j]);
                }
                System.arraycopy(embd[t], 0, flat, t * ne, ne);
            }
            if (!backend.supportsOp(org.jgemma.backend.Op.ATTENTION_NON_CAUSAL, null)) {
                throw new UnsupportedOperationException("backend '" + backend.name() + "' has no non-causal attention"
                        + " (Op.ATTENTION_NON_CAUSAL), which an image chunk needs; use the cpu backend for images");
            }
            Workspace w = ws();
            for (int t = 0; t < n; t++) posHost[t] = position + t;
            backend.writeInts(positions, posHost, n);
            int horizon = position + n - 1;
            seqs0 = this;
            seqs0hook = hook;
            seqs0Embd = flat;
            seqs0Horizon = horizon;
            try {
                blocks(w, n, null); // not recorded: image steps do not repeat
            } finally {
                seqs0 = null;
                seqs0hook = null;
                seqs0Embd = null;
                seqs0Horizon = -1;
            }
            position += n;
            highWater = Math.max(highWater, position);
        }

        /** Runs {@code ids} and returns the argmax of the last position's logits, computed on the device (greedy decoding). */
        public int nextGreedy(int[] ids) {
            checkFits(ids, 0, ids.length);
            for (int s = 0; s < ids.length; s += B) {
                int n = Math.min(B, ids.length - s);
                runLayers(ids, s, n, s + n == ids.length);
            }
            int[] r = new int[1];
            backend.readInts(ws().sampled, r, 1);
            return r[0];
        }

        private void checkFits(int[] ids, int off, int n) {
            Objects.requireNonNull(ids, "ids");
            Objects.checkFromIndexSize(off, n, ids.length);
            if (n == 0) throw new IllegalArgumentException("no tokens to run");
            if ((long) position + n > options.contextLength()) {
                throw new IllegalArgumentException(n + " tokens at position " + position + " do not fit the context of "
                        + options.contextLength() + " tokens (" + (options.contextLength() - position) + " left)");
            }
            for (int i = off; i < off + n; i++) {
                if (ids[i] < 0 || ids[i] >= config.nVocab()) {
                    throw new IllegalArgumentException("token id " + ids[i] + " at index " + i + " outside the vocabulary [0, " + config.nVocab() + ")");
                }
            }
        }

        /** Writes the chunk's inputs and runs the blocks (plus, if {@code lastLogits}, the last row's logits and argmax). */
        private void runLayers(int[] ids, int start, int n, boolean lastLogits) {
            checkOpen();
            Workspace w = ws();
            for (int t = 0; t < n; t++) posHost[t] = position + t;
            int[] chunk = start == 0 ? ids : java.util.Arrays.copyOfRange(ids, start, start + n); // prompts only
            backend.writeInts(w.tokens, chunk, n);
            backend.writeInts(positions, posHost, n);
            seqs0 = this;
            seqs0hook = hook;
            try {
                if (hook == null && n == 1 && lastLogits) { // the decode step: recorded once, replayed every token
                    recorded = true;
                    backend.runStep(decodeKey, decodeStep); // a Runnable made once: the token loop allocates nothing
                } else if (lastLogits) {
                    blocks(w, n, null);
                    lastRowLogits(w, n);
                } else {
                    blocks(w, n, null);
                }
            } finally {
                seqs0 = null;
                seqs0hook = null;
            }
            position += n;
            highWater = Math.max(highWater, position);
        }

        /** One token through the blocks plus its logits and argmax: what {@link #runLayers} records as the decode step. */
        private final Runnable decodeStep = () -> {
            Workspace w = ws();
            blocks(w, 1, null);
            lastRowLogits(w, 1);
        };

        /** Logits of the last of n rows into logits row 0, softcapped if the file says so, and their argmax. */
        private void lastRowLogits(Workspace w, int n) {
            int ne = config.nEmbd();
            Buffer in = w.outIn;
            if (hook != null) {
                backend.copy(w.x, (long) (n - 1) * ne, w.outIn, 0, ne);
                backend.rmsNorm(w.outIn, weights.outputNorm(), 1, ne, config.eps(), w.outIn);
                dump(hook, "result_norm", -1, w.outIn, 1, ne);
            } else if (n == 1) {
                in = w.h; // the fused blocks leave rmsNorm(x)·output_norm in h
            } else {
                backend.copy(w.h, (long) (n - 1) * ne, w.outIn, 0, ne);
            }
            backend.matmul(weights.output(), in, 1, w.logits);
            if (config.finalLogitSoftcap() > 0) backend.softcap(w.logits, config.nVocab(), config.finalLogitSoftcap());
            dump(hook, "result_output", -1, w.logits, 1, config.nVocab());
            backend.argmax(w.logits, 1, config.nVocab(), w.sampled);
        }
    }
}
