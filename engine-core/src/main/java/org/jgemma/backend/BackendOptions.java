package org.jgemma.backend;

/**
 * Options for creating a backend. {@code threads} ≤ 0 means all cores; {@code device} selects a device by index or
 * name (null: the best one).
 */
public record BackendOptions(int threads, String device) {
    public static BackendOptions defaults() {
        return new BackendOptions(0, null);
    }
}
