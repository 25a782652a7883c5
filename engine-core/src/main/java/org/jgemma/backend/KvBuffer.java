package org.jgemma.backend;

/** One layer's KV cache: {@code slots} rows of {@code kvDim} for K, the same for V. */
public interface KvBuffer {
    int slots();

    int kvDim();

    String name();
}
