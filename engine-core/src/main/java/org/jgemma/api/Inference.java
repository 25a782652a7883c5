package org.jgemma.api;

/**
 * What the API needs from a loaded model (an adapter over {@code org.jgemma.model.Gemma3Model}): sequences with a
 * KV cache that turn token ids into logits. Kept narrow so the generation loop can be tested on its own.
 */
interface Inference extends AutoCloseable {
    int vocabSize();

    /** Most tokens one sequence can hold. */
    int contextSize();

    /** Most prompt tokens one step evaluates. */
    int batchSize();

    /** Most sequences {@link #decodeBatch} advances at once (1: the backend steps them one at a time). */
    int maxParallel();

    /** A new sequence at position 0. */
    Sequence newSequence();

    /**
     * One decode step of {@code count} distinct sequences: {@code seqs[i]} takes {@code tokens[i]}; its last logits go
     * to {@code out[i]}. Equal to evaluating each alone.
     */
    void decodeBatch(Sequence[] seqs, int[] tokens, int count, float[][] out);

    /**
     * Asks the backend whether it can also hold something used beside the model (the vision tower: its weights and one
     * image's buffers), as {@link org.jgemma.backend.Backend#checkFits} does for the model itself. Default: no check.
     */
    default void checkFits(long weightBytes, long scratchBytes) {}

    /** Bytes the backend holds ({@link org.jgemma.backend.Backend#allocatedBytes}). */
    long allocatedBytes();

    /** Backend name and device, for messages. */
    String backendName();

    String deviceName();

    @Override
    void close();

    /** One sequence (KV cache). Single-threaded; {@link #close} gives its memory back. */
    interface Sequence extends AutoCloseable {
        @Override
        void close();

        /** Tokens evaluated so far: the position of the next one. */
        int position();

        /**
         * Evaluates {@code ids[off .. off+n)} at the next positions; writes the logits of the last one into
         * {@code logits[0 .. vocab)}.
         */
        void evaluate(int[] ids, int off, int n, float[] logits);

        /** Evaluates {@code ids} and returns the logits of every position, {@code [ids.length][vocab]} row-major. */
        float[] evaluateAll(int[] ids);

        /** Evaluates {@code ids}, handing every position's logits to {@code sink} a few rows at a time. */
        void evaluateEach(int[] ids, Model.LogitRows sink);

        /**
         * Evaluates one image's soft-token embeddings ({@code [n][n_embd]}, unscaled) at the next positions, with
         * bidirectional attention among them; no logits. Default: this inference cannot take images.
         */
        default void evaluateImage(float[][] embeddings) {
            throw new UnsupportedOperationException("this model cannot evaluate images");
        }

        /** Back to position 0. */
        void reset();

        /**
         * Rewinds to {@code position} (at most the current one), keeping the cache before it; false, changing nothing,
         * when the cache cannot serve that position any more (a sliding-window ring that has overwritten it).
         */
        boolean truncate(int position);
    }
}
