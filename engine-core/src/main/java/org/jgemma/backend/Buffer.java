package org.jgemma.backend;

/** A float buffer owned by a backend (device memory on a GPU). */
public interface Buffer {
    /** Number of float elements. */
    long size();

    String name();
}
