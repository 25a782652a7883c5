package org.jgemma.vision;

import org.jgemma.gguf.GgufFile;

/**
 * What the vision tower adds to a model's "will it fit" estimate ({@link org.jgemma.backend.Backend#checkFits}): the
 * packed bytes of its {@code v.*} / {@code mm.*} tensors, and the float buffers of encoding one image. Ollama counts the
 * same two parts for a model with a projector (llm/memory.go: {@code projectorWeights} and {@code projectorGraph}).
 *
 * @param weightBytes  bytes of the tower's tensors as the file stores them
 * @param scratchBytes bytes of float buffers that encoding one image needs at once ({@link #scratchBytes(VisionConfig)})
 */
public record VisionMemory(long weightBytes, long scratchBytes) {
    /** A model without a vision tower. */
    public static final VisionMemory NONE = new VisionMemory(0, 0);

    public VisionMemory {
        if (weightBytes < 0 || scratchBytes < 0) throw new IllegalArgumentException("negative bytes: " + weightBytes + ", " + scratchBytes);
    }

    /** The tower in {@code f} (an mmproj GGUF or an Ollama blob that embeds it); its config is read and checked. */
    public static VisionMemory of(GgufFile f) {
        return new VisionMemory(VisionModel.weightBytes(f), scratchBytes(VisionConfig.from(f)));
    }

    public long totalBytes() {
        return Math.addExact(weightBytes, scratchBytes);
    }

    /**
     * Float buffers of one image through {@link VisionModel#encode} on its CPU backend ({@link VisionEncoder}, the larger of
     * its two paths; keep this in step with it), all alive at once (S = image size, P = patch size, n = (S/P)² patches,
     * D = width, F = FFN width, t = image tokens, E = text width):
     * <ul>
     *   <li>the preprocessed image {@code [3][S][S]}; its im2col {@code [n][3·P·P]} on the host and on the backend;</li>
     *   <li>on the backend: the matmul input / output and Q, K, V, attention output {@code 5 × [n][D]}, the FFN
     *       {@code [n][F]}, the attention's transposed keys {@code [D][n rounded up to 8]}, values gathered per head
     *       {@code [n][D]} and score tiles (up to 16 workers of 4 query rows, {@code 64 × [n]}); on the host: the residual stream and two work rows {@code 3 × [n][D]} and the
     *       FFN {@code [n][F]};</li>
     *   <li>the pooled grid {@code [t][D]} and the result {@code [t][E]};</li>
     *   <li>what the tower keeps dequantized while loaded: position embeddings {@code [n][D]}, the projection
     *       {@code [D][E]}, per layer 9 vectors of D and one of F (norms, biases), the post-norm and projector norm.</li>
     * </ul>
     * The decoded input picture (3 bytes a pixel, before resizing) and the CPU backend's per-thread weight panels come on
     * top. Real Gemma 3 (896 px, patch 14, D 1152, F 4304, 27 layers, 16 heads, E 2560 for 4B): 98.9 M floats, 377 MiB.
     */
    public static long scratchBytes(VisionConfig c) {
        long s = c.imageSize(), p = c.patchSize(), n = c.nPatches(), d = c.nEmbd(), ff = c.nFf(), t = c.nTokens(), e = c.projDim();
        long nPad = (n + 7) / 8 * 8;
        long floats = 0;
        floats = Math.addExact(floats, Math.multiplyExact(3 * s, s));                  // pixels
        floats = Math.addExact(floats, Math.multiplyExact(2 * n, 3 * p * p));          // im2col, host and backend
        floats = Math.addExact(floats, Math.multiplyExact(8 * n, d));                  // 5 backend + 3 host [n][D]
        floats = Math.addExact(floats, Math.multiplyExact(nPad, d));                   // transposed keys
        floats = Math.addExact(floats, Math.multiplyExact(n, d));                      // values gathered per head
        floats = Math.addExact(floats, Math.multiplyExact(64, nPad));                  // score tiles
        floats = Math.addExact(floats, Math.multiplyExact(2 * n, ff));                 // FFN, backend and host
        floats = Math.addExact(floats, Math.multiplyExact(t, d + e));                  // pooled, result
        floats = Math.addExact(floats, Math.multiplyExact(n, d));                      // position embeddings
        floats = Math.addExact(floats, Math.multiplyExact(d, e));                      // projection
        floats = Math.addExact(floats, Math.multiplyExact(c.nLayer(), 9 * d + ff));    // per-layer norms and biases
        floats = Math.addExact(floats, 3 * d);                                         // post-norm weight and bias, projector norm
        return Math.multiplyExact(Float.BYTES, floats);
    }
}
