package org.jgemma.backend;

import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;

/**
 * A compute backend: owns device memory (weights, activations, KV cache) and runs the ops of a gemma3 step on it
 * (STYLE 6). Ops are enqueued in program order; on a GPU they run asynchronously and nothing is copied to the
 * host until {@link #read} / {@link #readInts}, which synchronise. The model (org.jgemma.model) drives the ops;
 * a backend may record a whole step once and replay it ({@link #runStep}).
 *
 * <p>Shapes: activations are row-major {@code [n][dim]} float buffers (one row per token). A weight matrix
 * with GGUF {@code ne = [K, N]} has N rows of K elements; {@code matmul} computes {@code out[t][r] = Σ_k W[r][k]·x[t][k]}.
 *
 * <p>Dynamic values of a step (token ids, positions) live in device int buffers written before the step, so a
 * recorded step can be replayed with new inputs. Implementations are not thread-safe: one thread at a time drives a
 * backend (the API's scheduler serialises every call, allocation and free included, under the model's step lock).
 *
 * <p>Memory has a lifetime (ggml-backend's buffers are the model): what {@link #allocate}, {@link #allocateInts} and
 * {@link #allocateKv} return stays allocated until {@link #free} gives it back or the backend closes, and
 * {@link #allocatedBytes} counts it, so a caller that frees everything it allocated sees the counter return exactly
 * to where it started. A step recorded by {@link #runStep} is released by {@link #forgetStep}.
 */
public interface Backend extends AutoCloseable {

    /** Short name: {@code cpu}, {@code cuda}, {@code opencl}, {@code reference}. */
    String name();

    /** Human-readable device description (e.g. "NVIDIA H100 80GB HBM3, 79 GiB"). */
    String deviceName();

    /** Whether this backend can run {@code op} with weights of {@code type} (null for ops without a weight). */
    boolean supportsOp(Op op, GgmlType type);

    /** Device memory still free, in bytes, or -1 if unknown (the CPU reports the JVM's limit). */
    long freeMemoryBytes();

    // ---- memory -------------------------------------------------------------------------------------------

    /**
     * Called once before a model uploads anything, with what it will need: {@code weightBytes} of packed weights,
     * {@code kvElements} K and V elements of one session's cache, {@code scratchBytes} of float activations. A backend
     * that cannot hold them throws {@link BackendUnavailableException} with the numbers and what to try (smaller
     * context, smaller quantization, another backend) instead of failing halfway through the upload. Default: no check.
     * The weights and scratch include the vision tower's ({@code org.jgemma.vision.VisionMemory}) when the model has one;
     * a tower chosen after the model loaded is checked by a second call ({@code kvElements} 0) against what is left.
     */
    default void checkFits(long weightBytes, long kvElements, long scratchBytes) {}

    /** Makes a GGUF tensor resident in its packed GGML form (the CPU maps it; GPUs upload it once). */
    Weight upload(GgufTensorInfo tensor);

    /** A float buffer of {@code n} elements, zero-filled. */
    Buffer allocate(long n, String name);

    /** An int buffer of {@code n} elements (token ids, positions, sampled ids). */
    IntBuffer allocateInts(int n, String name);

    /** A KV cache for one layer: {@code slots} rows of {@code kvDim} for K and for V (element type is the backend's choice). */
    KvBuffer allocateKv(int slots, int kvDim, String name);

    /**
     * Gives back what {@code a} holds; a second free of the same allocation does nothing. Using {@code a} afterwards is
     * an error the backend may or may not detect. Steps recorded with {@code a} must be forgotten ({@link #forgetStep})
     * first.
     */
    void free(Allocation a);

    /**
     * Bytes this backend holds now for its caller: resident weight copies (a backend that maps the file counts none),
     * buffers, KV caches and memory kept for recorded steps; scratch it keeps for itself may be included as long as
     * it does not grow per session. Returns to the same value when everything allocated since is freed.
     */
    long allocatedBytes();

    /** Host to device: {@code dst[dstOff .. dstOff+n) = src[srcOff ..)}. */
    void write(Buffer dst, long dstOff, float[] src, int srcOff, int n);

    /** Host to device for ints. */
    void writeInts(IntBuffer dst, int[] src, int n);

    /** Device to host, synchronising: {@code dst[dstOff ..) = src[srcOff .. srcOff+n)}. */
    void read(Buffer src, long srcOff, float[] dst, int dstOff, int n);

    /** Device to host for ints, synchronising. */
    void readInts(IntBuffer src, int[] dst, int n);

    // ---- ops ----------------------------------------------------------------------------------------------

    /** {@code out[t] = dequant(table row tokens[t]) * scale} for t < n; out is [n][table.cols]. */
    void embed(Weight table, IntBuffer tokens, int n, float scale, Buffer out);

    /**
     * RMSNorm of each of {@code rows} rows of length {@code dim}, times {@code weight} (length dim, F32):
     * {@code out = x / sqrt(mean(x²) + eps) * w} (ggml_compute_forward_rms_norm_f32). out may equal x.
     */
    void rmsNorm(Buffer x, Weight weight, int rows, int dim, float eps, Buffer out);

    /** {@code out[t][r] = Σ_k W[r][k] x[t][k]} for t < n: out is [n][w.rows()], x is [n][w.cols()]. */
    void matmul(Weight w, Buffer x, int n, Buffer out);

    /**
     * Two matmuls of the same input: {@code out1 = W1·x}, {@code out2 = W2·x} (gemma3's FFN gate and up). A backend may
     * run them as one kernel launch / one parallel region; the default runs {@link #matmul} twice. out1 and out2 differ
     * from each other and from x.
     */
    default void matmul2(Weight w1, Weight w2, Buffer x, int n, Buffer out1, Buffer out2) {
        matmul(w1, x, n, out1);
        matmul(w2, x, n, out2);
    }

    /** Three matmuls of the same input (gemma3's Q, K and V projections); see {@link #matmul2}. */
    default void matmul3(Weight w1, Weight w2, Weight w3, Buffer x, int n, Buffer out1, Buffer out2, Buffer out3) {
        matmul(w1, x, n, out1);
        matmul(w2, x, n, out2);
        matmul(w3, x, n, out3);
    }

    /**
     * Gemma 3's FFN input, fused where a backend can: {@code out = gelu_tanh(Wgate·x) · (Wup·x)} (out is
     * [n][gate.rows()]; gate and up have the same shape). {@code upScratch} ([n][up.rows()]) may be used for the up
     * projection and is left unspecified. The default is {@link #matmul2} then {@link #geglu}; the CUDA backend runs
     * both products and the GELU(tanh)·up epilogue in one launch. out differs from x and upScratch.
     */
    default void matmulGeglu(Weight gate, Weight up, Buffer x, int n, Buffer out, Buffer upScratch) {
        matmul2(gate, up, x, n, out, upScratch);
        geglu(out, upScratch, (long) n * gate.rows(), out);
    }

    /**
     * Gemma 3's attention input after the projections, fused where a backend can: RMSNorm of every head of q
     * ([n][nHead][headDim]) with {@code qNorm} and of k ([n][nKvHead][headDim]) with {@code kNorm}, NeoX RoPE of both
     * at {@code positions} ({@link #rope}), then, if {@code cache} is not null, {@link #kvAppend} of k and v
     * ([n][nKvHead·headDim]). q and k are updated in place. The default is those ops in that order (2 norms, 2 ropes,
     * the append); the CUDA backend does it in one launch.
     */
    default void qkNormRopeAppend(Buffer q, Buffer k, Buffer v, Weight qNorm, Weight kNorm, int n, int nHead, int nKvHead,
                                  int headDim, float eps, IntBuffer positions, float base, float freqScale, KvBuffer cache) {
        rmsNorm(q, qNorm, n * nHead, headDim, eps, q);
        rmsNorm(k, kNorm, n * nKvHead, headDim, eps, k);
        rope(q, n, nHead, headDim, positions, base, freqScale);
        rope(k, n, nKvHead, headDim, positions, base, freqScale);
        if (cache != null) kvAppend(k, v, n, positions, cache);
    }

    /**
     * Gemma 3's sandwich-norm residual step, fused where a backend can: {@code a = rmsNorm(a)·postNorm},
     * {@code x += a}, then, if {@code nextNorm} is not null, {@code out = rmsNorm(x)·nextNorm} (the next block's input
     * norm). All are [rows][dim]; out differs from a and x. The default is those three ops; the CUDA backend does them
     * in one launch (and quantizes out for the mat-vec that reads it).
     */
    default void rmsNormAddNorm(Buffer a, Weight postNorm, Buffer x, Weight nextNorm, int rows, int dim, float eps, Buffer out) {
        rmsNorm(a, postNorm, rows, dim, eps, a);
        add(x, a, (long) rows * dim);
        if (nextNorm != null) rmsNorm(x, nextNorm, rows, dim, eps, out);
    }

    /**
     * NeoX RoPE in place on x = [n][nHeads][headDim], token t at position {@code positions[t]}: pairs (i, i+headDim/2),
     * angle {@code freqScale · p · base^(-2i/headDim)} computed as ggml does (FACTS §3.6).
     */
    void rope(Buffer x, int n, int nHeads, int headDim, IntBuffer positions, float base, float freqScale);

    /** Writes K and V rows ([n][kvDim]) of tokens at {@code positions} into cache slots {@code position % slots}. */
    void kvAppend(Buffer k, Buffer v, int n, IntBuffer positions, KvBuffer cache);

    /**
     * Causal attention for n queries q = [n][nHead][headDim] at {@code positions}: query head h uses KV head
     * h / (nHead/nKvHead); it sees keys at positions p' ≤ p, and, when window > 0, only p - p' < window (all keys of
     * positions 0..p of the sequence are assumed appended). Key position p' is in slot p' % cache.slots().
     * Scores are {@code scale · (q·k)} (llama.cpp scales Q by f_attention_scale before the product; the result is the
     * same up to rounding), softmax over the visible keys, then {@code out = Σ p·v}. out = [n][nHead][headDim].
     */
    void attention(Buffer q, KvBuffer cache, int n, IntBuffer positions, int nHead, int nKvHead, int headDim, int window,
                   float scale, Buffer out);

    /**
     * {@link #attention} with the causal limit lifted up to position {@code horizon}: query t at position p sees the keys
     * at positions p' ≤ max(p, horizon), and, when window > 0, only p - p' < window. llama.cpp decodes the image chunk of a
     * Gemma 3 prompt this way (tools/mtmd/mtmd-helper.cpp :: mtmd_helper_decode_image_chunk calls llama_set_causal_attn
     * false; src/llama-kv-cache.cpp :: set_input_kq_mask then masks only other sequences and the sliding window, which it
     * measures from the query's own position): with horizon = the image's last position, every image token sees the text
     * before it and all of the image. Optional ({@link Op#ATTENTION_NON_CAUSAL}); horizon < 0 is plain {@link #attention}.
     */
    default void attentionNonCausal(Buffer q, KvBuffer cache, int n, IntBuffer positions, int nHead, int nKvHead, int headDim,
                                    int window, float scale, int horizon, Buffer out) {
        if (horizon < 0) {
            attention(q, cache, n, positions, nHead, nKvHead, headDim, window, scale, out);
            return;
        }
        throw new UnsupportedOperationException("backend '" + name() + "' has no non-causal attention (Op.ATTENTION_NON_CAUSAL)");
    }

    /**
     * Full (non-causal) multi-head self-attention over n tokens, without a KV cache: the SigLIP vision encoder's
     * attention. q, k, v and out are {@code [n][nHead][headDim]};
     * {@code out[i][h] = Σ_j softmax_j(scale · q[i][h]·k[j][h]) · v[j][h]} (see {@link SelfAttentionReference}). out differs
     * from q, k and v. The default reads q, k and v to the host, runs {@link SelfAttentionReference} and writes out back;
     * a backend with its own kernel overrides it.
     */
    default void selfAttention(Buffer q, Buffer k, Buffer v, int n, int nHead, int headDim, float scale, Buffer out) {
        SelfAttentionReference.check(n, nHead, headDim, q.size(), k.size(), v.size(), out.size());
        int len = Math.toIntExact((long) n * nHead * headDim);
        float[] qh = new float[len], kh = new float[len], vh = new float[len], oh = new float[len];
        read(q, 0, qh, 0, len);
        read(k, 0, kh, 0, len);
        read(v, 0, vh, 0, len);
        SelfAttentionReference.run(qh, kh, vh, n, nHead, headDim, scale, oh);
        write(out, 0, oh, 0, len);
    }

    /** {@code out[i] = gelu_tanh(gate[i]) * up[i]} for i < n. out may equal gate. */
    void geglu(Buffer gate, Buffer up, long n, Buffer out);

    /** {@code acc[i] += x[i]} for i < n. */
    void add(Buffer acc, Buffer x, long n);

    /** {@code x[i] = cap · tanh(x[i] / cap)} for i < n (final logit softcapping). */
    void softcap(Buffer x, long n, float cap);

    /** {@code dst[dstOff + i] = src[srcOff + i]} for i < n. */
    void copy(Buffer src, long srcOff, Buffer dst, long dstOff, long n);

    /** {@code out[t] = argmax_j x[t][j]} for t < rows (lowest index wins ties): greedy sampling on the device. */
    void argmax(Buffer x, int rows, int dim, IntBuffer out);

    // ---- steps --------------------------------------------------------------------------------------------

    /**
     * Runs the ops that {@code step} issues. A backend may record them the first time a given {@code key} is seen
     * and replay the recording afterwards (a CUDA graph): the ops must then read every changing value from
     * device buffers. The default runs {@code step} directly. Callers record only steps that repeat with the same
     * shapes and buffers (Gemma3Model: each session's one-token decode step, one key per session) and
     * {@link #forgetStep} every key before freeing the buffers it reads, so recordings stay bounded by the open sessions.
     */
    default void runStep(Object key, Runnable step) {
        step.run();
    }

    /**
     * Forgets the step recorded under {@code key} (a CUDA graph: destroyed), if any. Callers forget every key they
     * used when the buffers the step reads are freed; a backend that records nothing ignores this.
     */
    default void forgetStep(Object key) {}

    /** Waits for all enqueued work. */
    default void synchronize() {}

    @Override
    void close();
}
