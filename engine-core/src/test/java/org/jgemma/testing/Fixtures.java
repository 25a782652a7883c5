package org.jgemma.testing;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * The committed test fixtures under {@code models/fixtures} (copied from the shared reference fixtures: synthetic
 * gemma3 models, llama.cpp and HF transformers logits, tokenizer goldens). Gzipped files are unpacked once into
 * {@code target/fixture-cache}. Tests find the folder through the system property {@code jgemma.fixtures}
 * (set by the parent pom) or by walking up from the working directory.
 */
public final class Fixtures {
    private Fixtures() {}

    public static Path root() {
        String p = System.getProperty("jgemma.fixtures");
        if (p != null && Files.isDirectory(Path.of(p))) return Path.of(p);
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path c = d.resolve("models/fixtures");
            if (Files.isDirectory(c)) return c;
        }
        throw new IllegalStateException("models/fixtures not found (set -Djgemma.fixtures)");
    }

    /** A fixture file by relative path; a committed {@code rel.gz} is unpacked on first use. */
    public static synchronized Path file(String rel) {
        Path plain = root().resolve(rel);
        if (Files.exists(plain)) return plain;
        Path gz = root().resolve(rel + ".gz");
        if (!Files.exists(gz)) throw new IllegalStateException("no fixture " + plain + " (nor " + gz + ")");
        Path out = cacheDir().resolve(rel);
        try {
            if (Files.exists(out) && Files.getLastModifiedTime(out).compareTo(Files.getLastModifiedTime(gz)) >= 0) return out;
            Files.createDirectories(out.getParent());
            Path tmp = Files.createTempFile(out.getParent(), out.getFileName().toString(), ".tmp");
            try (InputStream in = new GZIPInputStream(Files.newInputStream(gz), 1 << 16)) {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Where unpacked or derived fixtures go: {@code target/fixture-cache} of the module under test. */
    public static Path cacheDir() {
        return Path.of("target", "fixture-cache").toAbsolutePath();
    }

    /** Path of a fixture model file relative to the fixtures folder: ("tiny", "q4_k_m") gives tiny/gemma3-tiny-q4_k_m.gguf. */
    public static String relPath(String model, String fmt) {
        return model + "/gemma3-" + model + "-" + fmt.toLowerCase() + ".gguf";
    }

    /**
     * A fixture model file, e.g. ("tiny", "q4_k_m"): the committed file (gzipped or not) if present; otherwise derived
     * once from the committed F32 file of the same model with this project's reference quantizers and GgufWriter,
     * exactly as llama.cpp made the original (see FixtureDerivation), and cached under {@link #cacheDir()}. A derived
     * file is used only if its SHA-256 equals the original's in models/fixtures/SHA256SUMS; otherwise this fails,
     * naming the first tensor or key that differs from the committed manifest of the original.
     */
    public static synchronized Path model(String model, String fmt) {
        String rel = relPath(model, fmt);
        if (Files.exists(root().resolve(rel)) || Files.exists(root().resolve(rel + ".gz"))) return file(rel);
        String expected = sha256Sums().get(rel);
        if (expected == null) throw new IllegalStateException("no fixture " + rel + " (not in models/fixtures/SHA256SUMS)");
        Path out = cacheDir().resolve("derived").resolve(rel);
        try {
            if (Files.exists(out) && expected.equals(sha256(out))) return out;
            String srcRel = relPath(model, "f32");
            if (!Files.exists(root().resolve(srcRel)) && !Files.exists(root().resolve(srcRel + ".gz"))) {
                throw new IllegalStateException("cannot derive " + rel + ": its source " + srcRel + " is not committed");
            }
            Path src = file(srcRel);
            Files.createDirectories(out.getParent());
            Path tmp = Files.createTempFile(out.getParent(), out.getFileName().toString(), ".tmp");
            FixtureDerivation.derive(src, fmt, tmp);
            String actual = sha256(tmp);
            if (!expected.equals(actual)) {
                String why = FixtureVerifier.firstDifference(tmp, FormatRefs.of(model, fmt));
                throw new IllegalStateException("derived " + rel + " differs from llama.cpp's original: sha256 " + actual
                        + ", expected " + expected + "; " + why + " (left in " + tmp + ")");
            }
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** models/fixtures/SHA256SUMS: relative path to the SHA-256 of every original shared fixture. */
    public static Map<String, String> sha256Sums() {
        try {
            Map<String, String> m = new LinkedHashMap<>();
            for (String line : Files.readAllLines(root().resolve("SHA256SUMS"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length == 2) m.put(f[1], f[0]);
            }
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Hex SHA-256 of a file. */
    public static String sha256(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The real 262144-entry Gemma 3 vocabulary (no tensors). */
    public static Path vocab() {
        return file("gemma3-vocab.gguf");
    }

    /** The prompt ids of a fixture model ({@code tiny}, {@code tinygqa}, {@code tinymix}). */
    public static int[] promptIds(String model) {
        try {
            String s = Files.readString(file(model + "/prompt-ids.txt")).trim();
            if (!s.startsWith("ids:")) throw new IllegalStateException("bad prompt-ids.txt: " + s);
            return Arrays.stream(s.substring(4).trim().split("\\s+")).mapToInt(Integer::parseInt).toArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Reference logits: {@code kind} is {@code expected} (llama.cpp CPU) or {@code exact} (HF transformers, float32 on
     * the dequantized weights); {@code fmt} e.g. {@code f32}, {@code q4_k_m}.
     */
    public static Reference reference(String model, String kind, String fmt) {
        return Reference.read(file(model + "/" + kind + "-" + fmt + ".bin"));
    }

    /**
     * A reference run (.bin layout of shared/fixtures/README.md): the logits of every prompt position (one batch),
     * then of n_gen greedy steps fed back one at a time.
     */
    public record Reference(int nPrompt, int nGen, int nVocab, int[] tokens, float[][] logits) {
        public static Reference read(Path p) {
            try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(p)))) {
                byte[] all = in.readAllBytes();
                ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
                int np = b.getInt(), ng = b.getInt(), nv = b.getInt();
                int[] tokens = new int[np + ng];
                for (int i = 0; i < tokens.length; i++) tokens[i] = b.getInt();
                float[][] logits = new float[np + ng][nv];
                for (float[] row : logits) {
                    for (int j = 0; j < nv; j++) row[j] = b.getFloat();
                }
                return new Reference(np, ng, nv, tokens, logits);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The prompt ids (the first nPrompt tokens). */
        public int[] prompt() {
            return Arrays.copyOf(tokens, nPrompt);
        }

        /** The greedy tokens the reference generated. */
        public int[] generated() {
            return Arrays.copyOfRange(tokens, nPrompt, nPrompt + nGen);
        }
    }
}
