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
import java.util.Arrays;
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
        static Reference read(Path p) {
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
