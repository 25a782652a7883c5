package org.jgemma.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Instant;

/**
 * A model the server can load, found in an Ollama store or a models folder.
 *
 * @param name          the name clients use, Ollama style ({@code gemma3:4b}, {@code my-file:latest})
 * @param path          the GGUF file (an Ollama blob or a {@code .gguf} file)
 * @param size          bytes of the GGUF file
 * @param modified      when the manifest or file last changed
 * @param digest        hex SHA-256 of the Ollama manifest; for a plain file, of its path, size and modification time
 * @param details       architecture, parameter count, quantization, context length (from the GGUF header)
 * @param params        the Ollama manifest's {@code params} layer (defaults under the request's options), or null
 * @param system        the Ollama manifest's {@code system} layer, or null
 * @param template      the Ollama manifest's {@code template} layer (a Go template, shown by /api/show; the GGUF's
 *                      own Jinja chat template renders the prompt), or null
 * @param license       the Ollama manifest's {@code license} layer, or null
 */
record ModelInfo(String name, Path path, long size, Instant modified, String digest, Details details, JsonNode params,
                 String system, String template, String license) {

    /**
     * What the GGUF header says.
     *
     * @param family        {@code general.architecture} ({@code gemma3})
     * @param parameterCount elements of all tensors
     * @param quantization  {@code general.file_type} as llama.cpp names it ({@code Q4_K_M}), else the commonest tensor type
     * @param contextLength the model's training context ({@code <arch>.context_length})
     * @param layers        {@code <arch>.block_count}
     * @param kvHeads       {@code <arch>.attention.head_count_kv}
     * @param headDim       {@code <arch>.attention.key_length}
     */
    record Details(String family, long parameterCount, String quantization, long contextLength, int layers, int kvHeads,
                   int headDim) {

        /** Ollama's {@code parameter_size}: {@code 4.3B}, {@code 268.10M}. */
        String parameterSize() {
            long n = parameterCount;
            if (n >= 1_000_000_000L) return String.format(java.util.Locale.ROOT, "%.1fB", n / 1e9);
            if (n >= 1_000_000L) return String.format(java.util.Locale.ROOT, "%.2fM", n / 1e6);
            if (n >= 1_000L) return String.format(java.util.Locale.ROOT, "%.2fK", n / 1e3);
            return Long.toString(n);
        }
    }
}
