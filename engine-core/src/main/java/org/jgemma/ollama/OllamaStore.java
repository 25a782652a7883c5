package org.jgemma.ollama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Finds models pulled with Ollama, so {@code jgemma run gemma3:4b-it-q4_K_M} runs the file (and the defaults)
 * {@code ollama run gemma3:4b-it-q4_K_M} would. Ollama's store: {@code <models>/manifests/<registry>/<namespace>/<model>/<tag>}
 * is a JSON manifest whose layers name blobs {@code <models>/blobs/sha256-<hex>} by media type (Ollama
 * server/images.go GetModel): {@code application/vnd.ollama.image.model} the GGUF file, {@code ...params} default
 * options (JSON), {@code ...template} the Go prompt template, {@code ...system} the system prompt,
 * {@code ...license} license texts. {@code <models>} is {@code $OLLAMA_MODELS}, else {@code ~/.ollama/models}, else
 * the Linux service's {@code /usr/share/ollama/.ollama/models}.
 */
public final class OllamaStore {
    static final String MEDIA = "application/vnd.ollama.image.";
    static final String MODEL_MEDIA_TYPE = MEDIA + "model";
    /** Text layers (params, template, system, license) larger than this are refused: they are a few KB in practice. */
    static final long MAX_TEXT_LAYER = 4L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();
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
        return !ref.endsWith(".gguf") && !ref.contains("\\") && !ref.startsWith("/") && !ref.startsWith(".")
                && ref.matches("[A-Za-z0-9._\\-/]+(:[A-Za-z0-9._\\-]+)?");
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
        for (String part : parts) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                throw new IllegalArgumentException("not an Ollama model reference: '" + ref + "'");
            }
        }
        return switch (parts.length) {
            case 1 -> new String[] {"registry.ollama.ai", "library", parts[0], tag};
            case 2 -> new String[] {"registry.ollama.ai", parts[0], parts[1], tag};
            case 3 -> new String[] {parts[0], parts[1], parts[2], tag};
            default -> throw new IllegalArgumentException("not an Ollama model reference: '" + ref + "'");
        };
    }

    /** The GGUF blob of {@code ref}, or empty if no store holds it. A manifest without a model layer is an error. */
    public Optional<Path> resolve(String ref) throws IOException {
        return find(ref).map(ModelReference::path);
    }

    /**
     * The model {@code ref} names with its manifest's layers, from the first store that has its manifest; empty if
     * none has. A manifest without a model layer, a malformed digest or a missing blob is an error naming the file.
     */
    public Optional<ModelReference> find(String ref) throws IOException {
        String[] p = parse(ref);
        for (Path root : roots) {
            Path manifest = root.resolve("manifests").resolve(p[0]).resolve(p[1]).resolve(p[2]).resolve(p[3]);
            if (Files.isRegularFile(manifest)) return Optional.of(read(root, manifest, ref));
        }
        return Optional.empty();
    }

    private static ModelReference read(Path root, Path manifest, String ref) throws IOException {
        if (Files.size(manifest) > MAX_TEXT_LAYER) throw new IOException(manifest + ": manifest larger than " + MAX_TEXT_LAYER + " bytes");
        JsonNode json;
        try {
            json = JSON.readTree(manifest.toFile());
        } catch (IOException e) {
            throw new IOException(manifest + ": not a JSON Ollama manifest (" + e.getMessage().lines().findFirst().orElse("") + ")", e);
        }
        Path model = null;
        Map<String, Object> params = Map.of();
        String template = null, system = null;
        List<String> license = new ArrayList<>();
        for (JsonNode layer : json.path("layers")) {
            String type = layer.path("mediaType").asText();
            if (!type.startsWith(MEDIA)) continue;
            switch (type.substring(MEDIA.length())) {
                case "model" -> model = blob(root, manifest, layer, ref);
                case "params" -> params = params(blob(root, manifest, layer, ref));
                case "template", "prompt" -> template = text(blob(root, manifest, layer, ref));
                case "system" -> system = text(blob(root, manifest, layer, ref));
                case "license" -> license.add(text(blob(root, manifest, layer, ref)));
                default -> { } // projector, adapter, messages...: not used here
            }
        }
        if (model == null) throw new IOException(manifest + ": no layer of media type " + MODEL_MEDIA_TYPE);
        return new ModelReference(ref, model, params, template, system, license, manifest);
    }

    private static Path blob(Path root, Path manifest, JsonNode layer, String ref) throws IOException {
        String digest = layer.path("digest").asText();
        if (!digest.matches("sha256:[0-9a-f]{64}")) {
            throw new IOException(manifest + ": " + layer.path("mediaType").asText() + " layer has a malformed digest '" + digest + "'");
        }
        Path blob = root.resolve("blobs").resolve(digest.replace(':', '-'));
        if (!Files.isRegularFile(blob)) {
            throw new IOException("Ollama manifest " + manifest + " names blob " + blob + ", which is missing (re-run `ollama pull " + ref + "`)");
        }
        return blob;
    }

    private static String text(Path blob) throws IOException {
        if (Files.size(blob) > MAX_TEXT_LAYER) throw new IOException(blob + ": text layer larger than " + MAX_TEXT_LAYER + " bytes");
        return Files.readString(blob, StandardCharsets.UTF_8);
    }

    /** A params layer: a JSON object of Ollama option names to values, as plain Java values. */
    private static Map<String, Object> params(Path blob) throws IOException {
        JsonNode node;
        try {
            node = JSON.readTree(text(blob));
        } catch (IOException e) {
            throw new IOException(blob + ": params layer is not JSON (" + e.getMessage().lines().findFirst().orElse("") + ")", e);
        }
        if (node == null || !node.isObject()) throw new IOException(blob + ": params layer is not a JSON object");
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) out.put(e.getKey(), plain(e.getValue()));
        return out;
    }

    private static Object plain(JsonNode n) {
        if (n.isArray()) {
            List<Object> l = new ArrayList<>();
            for (JsonNode x : n) l.add(plain(x));
            return l;
        }
        if (n.isIntegralNumber()) return n.asLong();
        if (n.isNumber()) return n.asDouble();
        if (n.isBoolean()) return n.asBoolean();
        if (n.isNull()) return "";
        return n.asText();
    }

    /** A model in a store, for {@code jgemma list}: its name as {@code ollama list} shows it, blob size and time. */
    public record Entry(String name, Path manifest, Path model, long size, FileTime modified) {}

    /**
     * Every model in the stores whose manifest names an existing model blob ({@code ollama list}: names of the
     * default registry and namespace shortened to {@code model:tag}). A model in two stores is listed from the first.
     */
    public List<Entry> list() throws IOException {
        List<Entry> out = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Path root : roots) {
            Path manifests = root.resolve("manifests");
            if (!Files.isDirectory(manifests)) continue;
            List<Path> files;
            try (Stream<Path> s = Files.find(manifests, 4, (f, a) -> a.isRegularFile())) {
                files = s.filter(f -> manifests.relativize(f).getNameCount() == 4).sorted().toList();
            }
            for (Path f : files) {
                Path rel = manifests.relativize(f);
                String name = rel.getName(0) + "/" + rel.getName(1) + "/" + rel.getName(2) + ":" + rel.getName(3);
                if (name.startsWith("registry.ollama.ai/library/")) name = name.substring("registry.ollama.ai/library/".length());
                else if (name.startsWith("registry.ollama.ai/")) name = name.substring("registry.ollama.ai/".length());
                if (!seen.add(name)) continue;
                try {
                    ModelReference m = read(root, f, name);
                    out.add(new Entry(name, f, m.path(), Files.size(m.path()), Files.getLastModifiedTime(f)));
                } catch (IOException | RuntimeException e) {
                    // a broken or partial manifest (a pull in progress) is not a model yet: left out, as ollama list does
                }
            }
        }
        return out;
    }

    public List<Path> roots() {
        return roots;
    }
}
