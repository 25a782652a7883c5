package org.jgemma.api;

import org.jgemma.backend.Backend;
import org.jgemma.model.Gemma3Model;

/** {@link Inference} over {@link Gemma3Model}: one model session per sequence. */
final class Gemma3Inference implements Inference {
    private final Gemma3Model model;
    private final Backend backend;
    private final int maxParallel;

    Gemma3Inference(Gemma3Model model, Backend backend, int maxParallel) {
        this.model = model;
        this.backend = backend;
        this.maxParallel = Math.max(1, Math.min(maxParallel, Gemma3Model.MAX_PARALLEL));
    }

    Gemma3Model model() { return model; }

    @Override public int vocabSize() { return model.vocabSize(); }
    @Override public int contextSize() { return model.contextLength(); }
    @Override public int batchSize() { return model.options().batch(); }
    @Override public int maxParallel() { return maxParallel; }
    @Override public long allocatedBytes() { return backend.allocatedBytes(); }
    @Override public void checkFits(long weightBytes, long scratchBytes) { backend.checkFits(weightBytes, 0, scratchBytes); }
    @Override public String backendName() { return backend.name(); }
    @Override public String deviceName() { return backend.deviceName(); }

    /** A sequence over one model session. */
    private static final class Seq implements Sequence {
        final Gemma3Model.Session s;

        Seq(Gemma3Model.Session s) {
            this.s = s;
        }

        @Override public int position() { return s.position(); }

        @Override
        public void evaluate(int[] ids, int off, int n, float[] logits) {
            s.forward(ids, off, n, logits); // into the caller's array: nothing allocated per token
        }

        @Override public boolean truncate(int position) {
            if (!s.canTruncate(position)) return false;
            s.truncate(position);
            return true;
        }

        @Override public float[] evaluateAll(int[] ids) { return s.forward(ids, true); }

        @Override public void evaluateEach(int[] ids, Model.LogitRows sink) { s.forwardEach(ids, sink::rows); }

        @Override public void evaluateImage(float[][] embeddings) { s.forwardImage(embeddings); }

        @Override public void reset() { s.reset(); }

        @Override public void close() { s.close(); }
    }

    @Override
    public Sequence newSequence() {
        return new Seq(model.newSession());
    }

    private final Gemma3Model.Session[] batch = new Gemma3Model.Session[Gemma3Model.MAX_PARALLEL];

    @Override
    public void decodeBatch(Sequence[] seqs, int[] tokens, int count, float[][] out) {
        for (int i = 0; i < count; i++) batch[i] = ((Seq) seqs[i]).s;
        try {
            model.decodeBatch(batch, tokens, count, out);
        } finally {
            java.util.Arrays.fill(batch, null);
        }
    }

    @Override
    public void close() {
        try {
            model.close();
        } finally {
            backend.close();
        }
    }
}
