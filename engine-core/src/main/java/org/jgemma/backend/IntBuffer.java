package org.jgemma.backend;

/** An int buffer owned by a backend: token ids, positions, sampled ids. */
public interface IntBuffer {
    int size();

    String name();
}
