package org.jgemma.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.jgemma.api.Model;
import org.jgemma.api.ModelOptions;

/** Helpers of the commands: model paths, the embedded tiny model, the load progress bar. */
final class Cli {
    private Cli() {}

    /** The random-weights test model shipped inside the jar (models/fixtures/tinygqa, Q4_K_M). */
    static final String EMBEDDED = "/models/gemma3-tinygqa-q4_k_m.gguf";

    /** Files above this size get a progress bar while they load. */
    private static final long PROGRESS_BYTES = 256L << 20;

    static Path requireFile(String path) throws IOException {
        Path p = Path.of(path);
        if (!Files.isRegularFile(p)) throw new NoSuchFileException(path, null, "no such model file");
        return p;
    }

    /** Extracts the embedded tiny model to a temporary file (deleted on exit). */
    static Path embeddedModel() throws IOException {
        try (InputStream in = Cli.class.getResourceAsStream(EMBEDDED)) {
            if (in == null) throw new IOException("the embedded model " + EMBEDDED + " is missing from the class path");
            Path tmp = Files.createTempFile("jgemma-tiny-", ".gguf");
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            return tmp;
        }
    }

    /** Opens a model, drawing a progress bar on {@code err} for large files. */
    static Model open(Path path, ModelOptions options, PrintWriter err) throws IOException {
        if (Files.size(path) >= PROGRESS_BYTES && options.progress() == null) {
            options = options.withProgress(new ProgressBar(err, "loading " + path.getFileName()));
        }
        return Model.open(path, options);
    }

    /** A text progress bar redrawn in place with carriage returns. */
    static final class ProgressBar implements ModelOptions.LoadProgress {
        private final PrintWriter err;
        private final String label;
        private int lastPercent = -1;

        ProgressBar(PrintWriter err, String label) {
            this.err = err;
            this.label = label;
        }

        @Override
        public void update(long done, long total) {
            int pct = total == 0 ? 100 : (int) (done * 100 / total);
            if (pct == lastPercent) return;
            lastPercent = pct;
            int filled = pct * 30 / 100;
            err.print("\r" + label + " [" + "#".repeat(filled) + " ".repeat(30 - filled) + "] " + pct + "% of "
                    + (total >> 20) + " MiB");
            if (pct == 100) err.println();
            err.flush();
        }
    }

    /** Parses "2 105 ..." (spaces or commas). */
    static int[] parseIds(String s) {
        String t = s.trim();
        if (t.isEmpty()) return new int[0];
        String[] parts = t.split("[\\s,]+");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--ids: '" + parts[i] + "' (item " + (i + 1) + ") is not a token id");
            }
        }
        return ids;
    }
}
