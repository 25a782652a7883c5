package org.jgemma.backend;

/** A float buffer owned by a backend (device memory on a GPU). */
public interface Buffer extends Allocation {
    /** Number of float elements. */
    long size();

    @Override
    default long bytes() { return 4 * size(); }
}
