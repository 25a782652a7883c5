package org.jgemma.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * The committed per-file / per-tensor manifest of the ORIGINAL shared fixture GGUFs (made by llama.cpp's converter
 * and llama-quantize), written once by {@code tools/make_format_refs.py}: file hashes, metadata keys in file order
 * with a hash of each encoded value, and per tensor its type, shape, SHA-256 of its bytes and SHA-256 plus sampled
 * values of gguf-py's {@code gguf.quants.dequantize} of it.
 */
public final class FormatRefs {
    private FormatRefs() {}

    /** A tensor line. {@code samples} are (element index, float32 bits) pairs of the dequantized values. */
    public record TensorRef(String file, String name, String type, long[] ne, String bytesSha, String dequantSha,
                            long[] sampleIndex, int[] sampleBits) {}

    /** A metadata key line: position in the file, key, gguf value type id, SHA-256 of the encoded value. */
    public record KeyRef(int index, String key, int type, String valueSha) {}

    /** One original file: its SHA-256, size, metadata keys in order and tensors in order. */
    public record FileRef(String file, String sha256, long size, List<KeyRef> keys, List<TensorRef> tensors) {
        public TensorRef tensor(String name) {
            for (TensorRef t : tensors) if (t.name.equals(name)) return t;
            throw new IllegalArgumentException(file + ": no tensor " + name + " in the reference manifest");
        }
    }

    private static Map<String, FileRef> all;

    /** Every original fixture file, keyed by its path relative to the fixtures folder (e.g. {@code tiny/gemma3-tiny-q4_0.gguf}). */
    public static synchronized Map<String, FileRef> all() {
        if (all != null) return all;
        Map<String, FileRef> m = new LinkedHashMap<>();
        try (InputStream in = FormatRefs.class.getResourceAsStream("/fixtures/format-refs.txt.gz")) {
            if (in == null) throw new IllegalStateException("test resource /fixtures/format-refs.txt.gz missing");
            BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(in), StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("#") || line.isBlank()) continue;
                String[] f = line.split(" ");
                switch (f[0]) {
                    case "F" -> m.put(f[1], new FileRef(f[1], f[2], Long.parseLong(f[3]), new ArrayList<>(), new ArrayList<>()));
                    case "K" -> m.get(f[1]).keys().add(new KeyRef(Integer.parseInt(f[2]), f[3], Integer.parseInt(f[4]), f[5]));
                    case "T" -> {
                        String[] dims = f[4].split(",");
                        long[] ne = new long[dims.length];
                        for (int i = 0; i < ne.length; i++) ne[i] = Long.parseLong(dims[i]);
                        int ns = f.length - 7;
                        long[] idx = new long[ns];
                        int[] bits = new int[ns];
                        for (int i = 0; i < ns; i++) {
                            String[] p = f[7 + i].split(":");
                            idx[i] = Long.parseLong(p[0]);
                            bits[i] = Integer.parseUnsignedInt(p[1], 16);
                        }
                        m.get(f[1]).tensors().add(new TensorRef(f[1], f[2], f[3], ne, f[5], f[6], idx, bits));
                    }
                    default -> throw new IllegalStateException("format-refs: bad line " + line);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return all = m;
    }

    /** The reference of the original {@code model}/{@code fmt} file, e.g. ("tiny", "q4_k_m"). */
    public static FileRef of(String model, String fmt) {
        FileRef f = all().get(Fixtures.relPath(model, fmt));
        if (f == null) throw new IllegalArgumentException("no reference manifest for " + model + " " + fmt);
        return f;
    }
}
