package org.jgemma.backend;

/** An int buffer owned by a backend: token ids, positions, sampled ids. */
public interface IntBuffer extends Allocation {
    int size();

    @Override
    default long bytes() { return 4L * size(); }
}
