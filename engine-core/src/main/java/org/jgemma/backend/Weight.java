package org.jgemma.backend;

import org.jgemma.ggml.GgmlType;

/** A resident weight tensor in its packed GGML form: {@code rows} rows of {@code cols} elements (GGUF ne = [cols, rows]). */
public interface Weight {
    String name();

    GgmlType type();

    /** Elements per row (GGUF ne[0]). */
    long cols();

    /** Number of rows (GGUF ne[1], 1 for vectors). */
    long rows();
}
