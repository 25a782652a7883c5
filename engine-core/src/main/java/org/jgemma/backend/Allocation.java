package org.jgemma.backend;

/**
 * Memory a backend allocated for a caller ({@link Buffer}, {@link IntBuffer}, {@link KvBuffer}): it stays allocated
 * until {@link Backend#free} (or the backend's close) gives it back, like a ggml-backend buffer
 * ({@code ggml_backend_buffer_free}). Using an allocation after it was freed is an error.
 */
public interface Allocation {
    String name();

    /** Bytes this allocation holds on the backend (what {@link Backend#allocatedBytes()} counts for it). */
    long bytes();
}
