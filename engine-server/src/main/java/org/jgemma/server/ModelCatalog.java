package org.jgemma.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.gguf.GgufValue;
import org.jgemma.ollama.ModelReference;
import org.jgemma.ollama.OllamaStore;

/**
 * The models the server knows by name: every model of the Ollama stores (listed and read by engine-core's
 * {@link OllamaStore}, with their manifests' {@code params}, {@code system}, {@code template} and {@code license}
 * layers) and every {@code *.gguf} file of the models folders (named by file name, tag {@code latest}). Names are looked up, never joined to paths: a request's model name cannot reach a
 * file the scan did not find. Scans are cheap (GGUF headers are cached by path, size and modification time).
 */
final class ModelCatalog {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._\\-/:]{0,299}");
    private static final String DEFAULT_REGISTRY = "registry.ollama.ai";

    private final List<Path> ollamaRoots;
    private final List<Path> modelDirs;
    private final Map<String, CachedDetails> detailsCache = new ConcurrentHashMap<>();
    private volatile Map<String, ModelInfo> byKey = Map.of(); // canonical lower-case name -> model
    private volatile List<ModelInfo> all = List.of();

    private record CachedDetails(long size, long mtime, ModelInfo.Details details) {}

    ModelCatalog(List<Path> ollamaRoots, List<Path> modelDirs) {
        this.ollamaRoots = List.copyOf(ollamaRoots);
        this.modelDirs = List.copyOf(modelDirs);
    }

    /** Scans the stores and folders again; returns every model, Ollama's first, each list sorted by name. */
    synchronized List<ModelInfo> scan() {
        Map<String, ModelInfo> found = new LinkedHashMap<>();
        scanOllama(found);
        for (Path dir : modelDirs) scanFolder(dir, found);
        List<ModelInfo> list = new ArrayList<>(found.values());
        Map<String, ModelInfo> keys = new HashMap<>();
        for (ModelInfo m : list) keys.putIfAbsent(key(m.name()), m);
        byKey = keys;
        all = List.copyOf(list);
        return all;
    }

    List<ModelInfo> models() {
        return all;
    }

    /**
     * The model a client names: {@code gemma3} is {@code gemma3:latest}; {@code registry.ollama.ai/library/} may
     * prefix it; a {@code .gguf} file's name may keep its extension. Rescans once when the name is unknown.
     *
     * @throws ApiException 400 for a malformed name, 404 for an unknown one
     */
    ModelInfo find(String name) {
        if (name == null || name.isEmpty()) throw ApiException.badRequest("model is required");
        if (!NAME.matcher(name).matches() || name.contains("..")) {
            throw new ApiException(400, "invalid model name '" + printable(name) + "'", "invalid_model_name");
        }
        String k = key(name);
        ModelInfo m = byKey.get(k);
        if (m == null) {
            scan();
            m = byKey.get(k);
        }
        if (m == null) throw ApiException.notFound(name);
        return m;
    }

    /** The canonical lookup key: lower case, default registry and namespace dropped, tag {@code latest} added. */
    static String key(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.endsWith(".gguf")) n = n.substring(0, n.length() - 5);
        if (n.startsWith(DEFAULT_REGISTRY + "/")) n = n.substring(DEFAULT_REGISTRY.length() + 1);
        if (n.startsWith("library/")) n = n.substring("library/".length());
        if (n.lastIndexOf(':') <= n.lastIndexOf('/')) n = n + ":latest";
        return n;
    }

    private static String printable(String s) {
        String t = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return t.replaceAll("\\p{Cntrl}", "?");
    }

    /** The Ollama stores' models as engine-core's {@link OllamaStore} lists and reads them (manifest layers included). */
    private void scanOllama(Map<String, ModelInfo> out) {
        if (ollamaRoots.isEmpty()) return;
        OllamaStore store = new OllamaStore(ollamaRoots);
        List<OllamaStore.Entry> entries;
        try {
            entries = store.list();
        } catch (IOException e) {
            System.err.println("jgemma serve: cannot read the Ollama stores " + ollamaRoots + ": " + e.getMessage());
            return;
        }
        for (OllamaStore.Entry e : entries) {
            try {
                ModelReference ref = store.find(e.name()).orElse(null);
                if (ref == null) continue;
                String name = e.name().lastIndexOf(':') > e.name().lastIndexOf('/') ? e.name() : e.name() + ":latest";
                JsonNode params = ref.params().isEmpty() ? null : Json.MAPPER.valueToTree(ref.params());
                String license = ref.license().isEmpty() ? null : String.join("\n", ref.license());
                out.putIfAbsent(key(name), new ModelInfo(name, ref.path(), e.size(), e.modified().toInstant(),
                        sha256(Files.readAllBytes(e.manifest())), details(ref.path()), params, ref.system(), ref.template(), license));
            } catch (IOException | RuntimeException x) {
                System.err.println("jgemma serve: skipping Ollama model " + e.name() + ": " + x.getMessage());
            }
        }
    }

    private void scanFolder(Path dir, Map<String, ModelInfo> out) {
        if (!Files.isDirectory(dir)) return;
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.gguf")) {
            for (Path p : ds) if (Files.isRegularFile(p)) files.add(p);
        } catch (IOException e) {
            System.err.println("jgemma serve: cannot read models folder " + dir + ": " + e.getMessage());
            return;
        }
        files.sort(null);
        for (Path p : files) {
            String stem = p.getFileName().toString();
            stem = stem.substring(0, stem.length() - ".gguf".length());
            if (!NAME.matcher(stem).matches()) continue;
            try {
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                ModelInfo.Details details = details(p);
                if (details.family().equals("clip")) continue; // a vision projector (mmproj): it serves the model next to it
                String digest = sha256((p.toAbsolutePath() + "|" + a.size() + "|" + a.lastModifiedTime().toMillis())
                        .getBytes(StandardCharsets.UTF_8));
                out.putIfAbsent(key(stem), new ModelInfo(stem + ":latest", p, a.size(), a.lastModifiedTime().toInstant(),
                        digest, details, null, null, null, null));
            } catch (IOException | RuntimeException e) {
                System.err.println("jgemma serve: skipping " + p + ": " + e.getMessage());
            }
        }
    }

    /** The GGUF header's facts, cached by path, size and modification time. */
    private ModelInfo.Details details(Path gguf) throws IOException {
        BasicFileAttributes a = Files.readAttributes(gguf, BasicFileAttributes.class);
        String k = gguf.toAbsolutePath().toString();
        CachedDetails c = detailsCache.get(k);
        long mtime = a.lastModifiedTime().toMillis();
        if (c != null && c.size() == a.size() && c.mtime() == mtime) return c.details();
        ModelInfo.Details d;
        try (GgufFile f = GgufFile.open(gguf)) {
            String arch = f.findString("general.architecture").orElse("unknown");
            long params = 0;
            Map<GgmlType, Long> bytesByType = new HashMap<>();
            for (GgufTensorInfo t : f.tensors()) {
                params += t.elementCount();
                bytesByType.merge(t.type(), t.byteSize(), Long::sum);
            }
            String quant = f.find("general.file_type").map(v -> fileTypeName(((Number) v.value()).intValue())).orElse(null);
            if (quant == null) {
                quant = bytesByType.entrySet().stream().max(Map.Entry.comparingByValue()).map(e -> e.getKey().name()).orElse("unknown");
            }
            d = new ModelInfo.Details(arch, params, quant, f.find(arch + ".context_length").map(ModelCatalog::asLong).orElse(0L),
                    (int) (long) f.find(arch + ".block_count").map(ModelCatalog::asLong).orElse(0L),
                    (int) (long) f.find(arch + ".attention.head_count_kv").map(ModelCatalog::asLong).orElse(0L),
                    (int) (long) f.find(arch + ".attention.key_length").map(ModelCatalog::asLong).orElse(0L));
        }
        detailsCache.put(k, new CachedDetails(a.size(), mtime, d));
        return d;
    }

    private static long asLong(GgufValue v) {
        return v.value() instanceof Number n ? n.longValue() : 0L;
    }

    /** llama.cpp's {@code llama_ftype} names (include/llama.h), which Ollama shows as {@code quantization_level}. */
    static String fileTypeName(int ftype) {
        return switch (ftype) {
            case 0 -> "F32"; case 1 -> "F16"; case 2 -> "Q4_0"; case 3 -> "Q4_1"; case 7 -> "Q8_0"; case 8 -> "Q5_0";
            case 9 -> "Q5_1"; case 10 -> "Q2_K"; case 11 -> "Q3_K_S"; case 12 -> "Q3_K_M"; case 13 -> "Q3_K_L";
            case 14 -> "Q4_K_S"; case 15 -> "Q4_K_M"; case 16 -> "Q5_K_S"; case 17 -> "Q5_K_M"; case 18 -> "Q6_K";
            case 19 -> "IQ2_XXS"; case 20 -> "IQ2_XS"; case 21 -> "Q2_K_S"; case 22 -> "IQ3_XS"; case 23 -> "IQ3_XXS";
            case 24 -> "IQ1_S"; case 25 -> "IQ4_NL"; case 26 -> "IQ3_S"; case 27 -> "IQ3_M"; case 28 -> "IQ2_S";
            case 29 -> "IQ2_M"; case 30 -> "IQ4_XS"; case 31 -> "IQ1_M"; case 32 -> "BF16"; case 36 -> "TQ1_0";
            case 37 -> "TQ2_0"; case 38 -> "MXFP4_MOE";
            default -> null;
        };
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    Optional<ModelInfo> peek(String name) {
        return Optional.ofNullable(byKey.get(key(name)));
    }

    static Instant now() {
        return Instant.now();
    }
}
