package org.jgemma.backend;

/** One layer's KV cache: {@code slots} rows of {@code kvDim} for K, the same for V. */
public interface KvBuffer extends Allocation {
    int slots();

    int kvDim();

    /** K and V as float32; a backend that stores them otherwise says so. */
    @Override
    default long bytes() { return 2L * 4 * slots() * kvDim(); }
}
