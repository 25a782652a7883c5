package org.jgemma.ollama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds the GGUF blob of a model pulled with Ollama, so {@code jgemma run gemma3:4b-it-q4_K_M} runs the file
 * {@code ollama run gemma3:4b-it-q4_K_M} would. Ollama's store: {@code <models>/manifests/<registry>/<namespace>/<model>/<tag>}
 * is a JSON manifest whose layer of media type {@code application/vnd.ollama.image.model} names the blob
 * {@code <models>/blobs/sha256-<hex>}. {@code <models>} is {@code $OLLAMA_MODELS}, else {@code ~/.ollama/models},
 * else the Linux service's {@code /usr/share/ollama/.ollama/models}.
 */
public final class OllamaStore {
    static final String MODEL_MEDIA_TYPE = "application/vnd.ollama.image.model";
    private final List<Path> roots;

    public OllamaStore(List<Path> roots) {
        this.roots = List.copyOf(roots);
    }

    /** The store locations Ollama itself uses on this machine. */
    public static OllamaStore standard() {
        List<Path> roots = new ArrayList<>();
        String env = System.getenv("OLLAMA_MODELS");
        if (env != null && !env.isBlank()) roots.add(Path.of(env));
        roots.add(Path.of(System.getProperty("user.home"), ".ollama", "models"));
        roots.add(Path.of("/usr/share/ollama/.ollama/models"));
        return new OllamaStore(roots);
    }

    /** Whether {@code ref} looks like an Ollama model reference ({@code name:tag}, not a path to a file). */
    public static boolean looksLikeReference(String ref) {
        return !ref.endsWith(".gguf") && !ref.contains("\\") && ref.matches("[A-Za-z0-9._\\-/]+(:[A-Za-z0-9._\\-]+)?");
    }

    /** The manifest path parts for a reference: [registry, namespace, model, tag]. */
    static String[] parse(String ref) {
        String tag = "latest";
        String name = ref;
        int colon = ref.lastIndexOf(':');
        if (colon > ref.lastIndexOf('/')) {
            tag = ref.substring(colon + 1);
            name = ref.substring(0, colon);
        }
        String[] parts = name.split("/");
        return switch (parts.length) {
            case 1 -> new String[] {"registry.ollama.ai", "library", parts[0], tag};
            case 2 -> new String[] {"registry.ollama.ai", parts[0], parts[1], tag};
            case 3 -> new String[] {parts[0], parts[1], parts[2], tag};
            default -> throw new IllegalArgumentException("not an Ollama model reference: '" + ref + "'");
        };
    }

    /** The GGUF blob of {@code ref}, or empty if no store holds it. A manifest without a model layer is an error. */
    public Optional<Path> resolve(String ref) throws IOException {
        String[] p = parse(ref);
        for (Path root : roots) {
            Path manifest = root.resolve("manifests").resolve(p[0]).resolve(p[1]).resolve(p[2]).resolve(p[3]);
            if (!Files.isRegularFile(manifest)) continue;
            JsonNode json = new ObjectMapper().readTree(manifest.toFile());
            for (JsonNode layer : json.path("layers")) {
                if (MODEL_MEDIA_TYPE.equals(layer.path("mediaType").asText())) {
                    String digest = layer.path("digest").asText();
                    if (!digest.matches("sha256:[0-9a-f]{64}")) {
                        throw new IOException(manifest + ": model layer has a malformed digest '" + digest + "'");
                    }
                    Path blob = root.resolve("blobs").resolve(digest.replace(':', '-'));
                    if (!Files.isRegularFile(blob)) {
                        throw new IOException("Ollama manifest " + manifest + " names blob " + blob + ", which is missing (re-run `ollama pull " + ref + "`)");
                    }
                    return Optional.of(blob);
                }
            }
            throw new IOException(manifest + ": no layer of media type " + MODEL_MEDIA_TYPE);
        }
        return Optional.empty();
    }

    public List<Path> roots() {
        return roots;
    }
}
