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
    }

    /** Loads {@code f} onto {@code backend} with a context of {@code contextLength} tokens. */
    public static Gemma3Model load(GgufFile f, Backend backend, int contextLength) {
        return load(f, backend, Options.of(contextLength));
    }

    public static Gemma3Model load(GgufFile f, Backend backend, Options options) {
        Gemma3Config c = Gemma3Config.from(f);
        if (options.contextLength() < 1 || options.contextLength() > c.contextLength()) {
            throw new IllegalArgumentException("context length " + options.contextLength() + " outside [1, " + c.contextLength()
                    + "] (the model's gemma3.context_length)");
        }
        if (options.batch() < 1 || options.batch() > options.contextLength()) {
            throw new IllegalArgumentException("batch " + options.batch() + " outside [1, context length " + options.contextLength() + "]");
        }
        checkFits(f, c, backend, options);
        return new Gemma3Model(c, Gemma3Weights.load(f, c, backend), backend, options);
    }

    /**
     * What one session of a model needs: packed weight bytes, KV cache elements (K and V, all layers; the element
     * size is the backend's) and scratch bytes for the activations. What the loader asks the backend for.
     */
    public record MemoryEstimate(long weightBytes, long kvElements, long scratchBytes) {}

    /** The memory {@link #load} asks the backend for ({@link Backend#checkFits}), without loading anything. */
    public static MemoryEstimate estimate(GgufFile f, Options options) {
        Gemma3Config c = Gemma3Config.from(f);
        long weights = 0;
        for (var t : f.tensors()) {
            if (!t.name().startsWith("v.") && !t.name().startsWith("mm.")) weights += t.byteSize(); // vision tower ignored
        }
        long kv = 0;
        for (int il = 0; il < c.nLayer(); il++) kv += 2L * kvSlots(c, options, il) * c.kvDim();
        long b = options.batch(), l = Math.min(b, LOGIT_ROWS);
        long floats = b * (3L * c.nEmbd() + 2L * c.qDim() + 2L * c.kvDim() + 2L * c.nFf()) + l * ((long) c.nEmbd() + c.nVocab());
        return new MemoryEstimate(weights, kv, 4 * floats);
    }

    /** Tells the backend what one session of this model will need before any upload (Backend#checkFits). */
    private static void checkFits(GgufFile f, Gemma3Config c, Backend backend, Options options) {
        long weights = 0;
        for (var t : f.tensors()) {
            if (!t.name().startsWith("v.") && !t.name().startsWith("mm.")) weights += t.byteSize(); // vision tower ignored
        }
        long kv = 0;
        for (int il = 0; il < c.nLayer(); il++) kv += 2L * kvSlots(c, options, il) * c.kvDim();
        long b = options.batch(), l = Math.min(b, LOGIT_ROWS);
        long floats = b * (3L * c.nEmbd() + 2L * c.qDim() + 2L * c.kvDim() + 2L * c.nFf()) + l * ((long) c.nEmbd() + c.nVocab());
        backend.checkFits(weights, kv, 4 * floats);
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
        return Math.min(ctx, config.slidingWindow() + options.batch());
    }

    /** Rows of logits computed at once when all positions' logits are asked for. */
    private static final int LOGIT_ROWS = 8;

    /** One sequence: KV cache and activation buffers on the backend. Not thread-safe. */
    public final class Session {
        private final int B = options.batch();
        private final int L = Math.min(B, LOGIT_ROWS);
        private final IntBuffer tokens = backend.allocateInts(B, "tokens");      // [B]
        private final IntBuffer positions = backend.allocateInts(B, "positions"); // [B]
        private final IntBuffer sampled = backend.allocateInts(1, "sampled");     // [1]
        private final Buffer x = backend.allocate((long) B * config.nEmbd(), "x");        // [B][n_embd] residual stream
        private final Buffer h = backend.allocate((long) B * config.nEmbd(), "h");        // [B][n_embd] normed input
        private final Buffer q = backend.allocate((long) B * config.qDim(), "q");         // [B][n_head][hd]
        private final Buffer k = backend.allocate((long) B * config.kvDim(), "k");        // [B][n_head_kv][hd]
        private final Buffer v = backend.allocate((long) B * config.kvDim(), "v");        // [B][n_head_kv][hd]
        private final Buffer attn = backend.allocate((long) B * config.qDim(), "kqv");    // [B][n_head][hd]
        private final Buffer a = backend.allocate((long) B * config.nEmbd(), "a");        // [B][n_embd] block output
        private final Buffer gate = backend.allocate((long) B * config.nFf(), "gate");    // [B][n_ff]
        private final Buffer up = backend.allocate((long) B * config.nFf(), "up");        // [B][n_ff]
        private final Buffer outIn = backend.allocate((long) L * config.nEmbd(), "result_norm"); // [L][n_embd]
        private final Buffer logits = backend.allocate((long) L * config.nVocab(), "logits");   // [L][n_vocab]
        private final KvBuffer[] kv = new KvBuffer[config.nLayer()];
        private final int[] posHost = new int[B];
        private final Object[] stepKeys = new Object[2 * (B + 1)]; // runStep keys per (n, lastLogits), made once
        private int position;
        private int highWater; // 1 + the highest position written to the KV cache since reset
        private DebugHook hook;

        private Session() {
            for (int il = 0; il < kv.length; il++) kv[il] = backend.allocateKv(kvSlots(il), config.kvDim(), "kv." + il);
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
            float[] buf = new float[L * nv];
            for (int s = 0; s < ids.length; s += B) {
                int n = Math.min(B, ids.length - s);
                runLayers(ids, s, n, false);
                backend.rmsNorm(x, weights.outputNorm(), n, ne, config.eps(), h);
                dump("result_norm", -1, h, n, ne);
                for (int r = 0; r < n; r += L) {
                    int m = Math.min(L, n - r);
                    backend.copy(h, (long) r * ne, outIn, 0, (long) m * ne);
                    backend.matmul(weights.output(), outIn, m, logits);
                    if (config.finalLogitSoftcap() > 0) backend.softcap(logits, (long) m * nv, config.finalLogitSoftcap());
                    dump("result_output", -1, logits, m, nv);
                    backend.read(logits, 0, buf, 0, m * nv);
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
                if (last) backend.read(logits, 0, out, 0, nv);
            }
        }

        /** Runs {@code ids} and returns the argmax of the last position's logits, computed on the device (greedy decoding). */
        public int nextGreedy(int[] ids) {
            checkFits(ids, 0, ids.length);
            for (int s = 0; s < ids.length; s += B) {
                int n = Math.min(B, ids.length - s);
                runLayers(ids, s, n, s + n == ids.length);
            }
            int[] r = new int[1];
            backend.readInts(sampled, r, 1);
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
            for (int t = 0; t < n; t++) posHost[t] = position + t;
            int[] chunk = start == 0 ? ids : java.util.Arrays.copyOfRange(ids, start, start + n); // prompts only
            backend.writeInts(tokens, chunk, n);
            backend.writeInts(positions, posHost, n);
            Runnable step = lastLogits ? (n == 1 ? decodeStep : () -> { blocks(n); lastRowLogits(n); }) : () -> blocks(n);
            if (hook != null) step.run();
            else backend.runStep(stepKey(n, lastLogits), step);
            position += n;
            highWater = Math.max(highWater, position);
        }

        /** The one-token step with logits, made once (the decode loop runs it every token). */
        private final Runnable decodeStep = () -> {
            blocks(1);
            lastRowLogits(1);
        };

        /** The key a backend may record the step under: one object per (this session, n, lastLogits), kept. */
        private Object stepKey(int n, boolean lastLogits) {
            int i = 2 * n + (lastLogits ? 1 : 0);
            Object k = stepKeys[i];
            if (k == null) stepKeys[i] = k = List.of(this, n, lastLogits);
            return k;
        }

        private void dump(String name, int layer, Buffer buf, int rows, int cols) {
            if (hook != null) hook.tensor(name, layer, buf, rows, cols);
        }

        /** The gemma3 blocks on n tokens (FACTS §3.4, steps 1-12). */
        private void blocks(int n) {
            Gemma3Config c = config;
            int ne = c.nEmbd(), hd = c.headDim();
            float eps = c.eps();
            backend.embed(weights.tokenEmbd(), tokens, n, embedScale, x);                 // x = embd[tok] * sqrt(n_embd)
            dump("inp_scaled", -1, x, n, ne);
            for (int il = 0; il < c.nLayer(); il++) {
                Gemma3Weights.Layer w = weights.layers().get(il);
                backend.rmsNorm(x, w.attnNorm(), n, ne, eps, h);
                dump("attn_norm", il, h, n, ne);
                backend.matmul3(w.wq(), w.wk(), w.wv(), h, n, q, k, v);
                dump("Qcur", il, q, n, c.qDim());
                dump("Kcur", il, k, n, c.kvDim());
                dump("Vcur", il, v, n, c.kvDim());
                backend.rmsNorm(q, w.qNorm(), n * c.nHead(), hd, eps, q);                  // QK-norm per head, before RoPE
                backend.rmsNorm(k, w.kNorm(), n * c.nHeadKv(), hd, eps, k);
                dump("Qcur_normed", il, q, n, c.qDim());
                dump("Kcur_normed", il, k, n, c.kvDim());
                backend.rope(q, n, c.nHead(), hd, positions, c.ropeBase(il), c.ropeScale(il));
                backend.rope(k, n, c.nHeadKv(), hd, positions, c.ropeBase(il), c.ropeScale(il));
                dump("Qcur_rope", il, q, n, c.qDim());
                dump("Kcur_rope", il, k, n, c.kvDim());
                backend.kvAppend(k, v, n, positions, kv[il]);
                backend.attention(q, kv[il], n, positions, c.nHead(), c.nHeadKv(), hd, c.window(il), c.attentionScale(), attn);
                dump("kqv_out", il, attn, n, c.qDim());
                backend.matmul(w.wo(), attn, n, a);
                dump("attn_out", il, a, n, ne);
                backend.rmsNorm(a, w.postAttnNorm(), n, ne, eps, a);                       // sandwich norm
                dump("attn_post_norm", il, a, n, ne);
                backend.add(x, a, (long) n * ne);
                dump("sa_out", il, x, n, ne);
                backend.rmsNorm(x, w.ffnNorm(), n, ne, eps, h);
                dump("ffn_norm", il, h, n, ne);
                backend.matmul2(w.ffnGate(), w.ffnUp(), h, n, gate, up);
                backend.geglu(gate, up, (long) n * c.nFf(), gate);                          // gelu_tanh(gate) * up
                dump("ffn_geglu", il, gate, n, c.nFf());
                backend.matmul(w.ffnDown(), gate, n, a);
                dump("ffn_out", il, a, n, ne);
                backend.rmsNorm(a, w.postFfnNorm(), n, ne, eps, a);
                dump("ffn_post_norm", il, a, n, ne);
                backend.add(x, a, (long) n * ne);
                dump("l_out", il, x, n, ne);
            }
        }

        /** Logits of the last of n rows into logits row 0, softcapped if the file says so, and their argmax. */
        private void lastRowLogits(int n) {
            int ne = config.nEmbd();
            backend.copy(x, (long) (n - 1) * ne, outIn, 0, ne);
            backend.rmsNorm(outIn, weights.outputNorm(), 1, ne, config.eps(), outIn);
            dump("result_norm", -1, outIn, 1, ne);
            backend.matmul(weights.output(), outIn, 1, logits);
            if (config.finalLogitSoftcap() > 0) backend.softcap(logits, config.nVocab(), config.finalLogitSoftcap());
            dump("result_output", -1, logits, 1, config.nVocab());
            backend.argmax(logits, 1, config.nVocab(), sampled);
        }
    }
}
