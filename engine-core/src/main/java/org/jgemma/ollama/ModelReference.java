package org.jgemma.ollama;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * What a model argument ({@code MODEL} on the command line, {@code "model"} in a request) names: the GGUF file to open
 * and, for a model pulled with Ollama, the other layers of its manifest as Ollama's {@code server/images.go GetModel}
 * reads them.
 *
 * <p>How they apply (as Ollama applies them): {@link #params()} are default options under the caller's own options
 * ({@link OllamaOptions#apply}); {@link #system()} is the system prompt when the caller gives none. {@link #template()}
 * is Ollama's Go text/template, kept for display: prompts are rendered with the GGUF's own
 * {@code tokenizer.chat_template} (Jinja), else the built-in Gemma turn format, which is what current Ollama does too
 * (it runs GGUF models through llama-server, and its compatibility shim gives Ollama's gemma3 blobs, which carry no
 * chat template, the Gemma template: Ollama llama/compat/llama-ollama-compat.cpp handle_gemma3). Ollama's gemma3
 * Go template (template/gemma3-instruct.gotmpl) renders the same turns, the system prompt folded into the first user
 * turn.
 *
 * @param name     the reference as given ({@code gemma3:4b}) or the file name
 * @param path     the GGUF file (for an Ollama model, its {@code application/vnd.ollama.image.model} blob)
 * @param params   the {@code application/vnd.ollama.image.params} layer: Ollama option names to JSON values
 *                 (Number, String, Boolean, List); empty for a plain file
 * @param template the {@code application/vnd.ollama.image.template} layer, or null
 * @param system   the {@code application/vnd.ollama.image.system} layer, or null
 * @param license  the {@code application/vnd.ollama.image.license} layers, in manifest order
 * @param manifest the Ollama manifest read, or null for a plain file
 */
public record ModelReference(String name, Path path, Map<String, Object> params, String template, String system,
                             List<String> license, Path manifest) {

    public ModelReference {
        params = Map.copyOf(params);
        license = List.copyOf(license);
    }

    /** A plain GGUF file: no params, template, system prompt or license. */
    public static ModelReference ofFile(Path file) {
        return new ModelReference(String.valueOf(file.getFileName()), file, Map.of(), null, null, List.of(), null);
    }

    /** Whether this came from an Ollama manifest. */
    public boolean isOllama() {
        return manifest != null;
    }

    /** As {@link #resolve(String, OllamaStore)} in the standard Ollama stores ({@link OllamaStore#standard()}). */
    public static ModelReference resolve(String fileOrReference) throws IOException {
        return resolve(fileOrReference, OllamaStore.standard());
    }

    /**
     * What {@code fileOrReference} names: the file itself when it exists, else the Ollama model of that name in
     * {@code store}.
     *
     * @throws NoSuchFileException when it is neither (the message says what was searched: the path and the stores)
     * @throws IOException         when it is a directory, or a manifest or blob is unreadable or malformed
     */
    public static ModelReference resolve(String fileOrReference, OllamaStore store) throws IOException {
        if (fileOrReference == null || fileOrReference.isBlank()) throw new NoSuchFileException("", null, "no model given");
        Path p;
        try {
            p = Path.of(fileOrReference);
        } catch (InvalidPathException e) {
            p = null;
        }
        if (p != null && Files.exists(p)) {
            if (Files.isDirectory(p)) throw new IOException(p + " is a directory, not a GGUF file");
            return ofFile(p);
        }
        boolean reference = OllamaStore.looksLikeReference(fileOrReference);
        if (reference) {
            Optional<ModelReference> found;
            try {
                found = store.find(fileOrReference);
            } catch (IllegalArgumentException e) { // a/b/c/d: more parts than a reference has
                found = Optional.empty();
                reference = false;
            }
            if (found.isPresent()) return found.get();
        }
        String stores = store.roots().stream().map(Path::toString).collect(Collectors.joining(", "));
        if (!reference) {
            throw new NoSuchFileException(fileOrReference, null, "no such file (and not an Ollama model name)");
        }
        throw new NoSuchFileException(fileOrReference, null, "neither a file nor an Ollama model; searched the file "
                + Path.of(fileOrReference).toAbsolutePath() + " and the Ollama stores " + stores
                + " (set OLLAMA_MODELS, or `ollama pull " + fileOrReference + "`)");
    }
}
