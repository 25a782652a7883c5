package org.jgemma.api;

import org.jgemma.backend.Backend;
import org.jgemma.model.Gemma3Model;

/** {@link Inference} over {@link Gemma3Model}: one model session per sequence. */
final class Gemma3Inference implements Inference {
    private final Gemma3Model model;
    private final Backend backend;

    Gemma3Inference(Gemma3Model model, Backend backend) {
        this.model = model;
        this.backend = backend;
    }

    Gemma3Model model() { return model; }

    @Override public int vocabSize() { return model.vocabSize(); }
    @Override public int contextSize() { return model.contextLength(); }
    @Override public String backendName() { return backend.name(); }
    @Override public String deviceName() { return backend.deviceName(); }

    @Override
    public Sequence newSequence() {
        Gemma3Model.Session s = model.newSession();
        return new Sequence() {
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

            @Override public void reset() { s.reset(); }
        };
    }

    @Override
    public void close() {
        backend.close();
    }
}
