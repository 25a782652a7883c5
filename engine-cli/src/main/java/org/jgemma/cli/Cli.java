package org.jgemma.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.jgemma.api.Model;
import org.jgemma.api.ModelOptions;

/** Helpers of the commands: model paths, the embedded tiny model, the load progress bar. */
final class Cli {
    private Cli() {}

    /** The random-weights test model shipped inside the jar (models/fixtures/tinygqa, Q4_K_M). */
    static final String EMBEDDED = "/models/gemma3-tinygqa-q4_k_m.gguf";

    /** Loads that take longer than this show a progress bar (from then on). */
    static final long PROGRESS_AFTER_NANOS = 1_000_000_000L;

    /**
     * The GGUF file MODEL names: a file, or an Ollama reference such as {@code gemma3:4b-it-q4_K_M} resolved in the
     * standard Ollama stores ({@link Model#resolve(String)}); the error lists the stores searched.
     */
    static Path resolveModel(String model) throws IOException {
        return org.jgemma.ollama.ModelReference.resolve(model).path();
    }

    /** How MODEL is shown in messages: the file name, or the Ollama reference as given. */
    static String label(String model, Path resolved) {
        Path given = Path.of(model);
        return Files.exists(given) ? String.valueOf(given.getFileName()) : model;
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

    /** Opens a model, drawing a progress bar on {@code err} for large files when on a terminal. */
    static Model open(Path path, ModelOptions options, PrintWriter err) throws IOException {
        if (options.progress() == null && onTerminal()) {
            options = options.withProgress(new ProgressBar(err, "loading " + path.getFileName(), PROGRESS_AFTER_NANOS));
        }
        return Model.open(path, options);
    }

    /**
     * Whether the user watches the output: a console whose streams are a terminal. Java cannot ask about stderr
     * alone; {@link java.io.Console#isTerminal()} (JDK 22+: System.console() is no longer null when redirected)
     * is false as soon as input or output is redirected, which is when stderr usually goes to a log too.
     */
    static boolean onTerminal() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    /**
     * A text progress bar redrawn in place with carriage returns, one line in all (ended at 100%). Only for a
     * terminal: {@link #open} draws none when the output is not one, so logs get no progress lines.
     */
    static final class ProgressBar implements ModelOptions.LoadProgress {
        private final PrintWriter err;
        private final String label;
        private final long start = System.nanoTime();
        private final long delayNanos;
        private int lastPercent = -1;

        ProgressBar(PrintWriter err, String label) {
            this(err, label, 0);
        }

        /** A bar that appears only once loading has taken {@code delayNanos} (fast loads draw nothing). */
        ProgressBar(PrintWriter err, String label, long delayNanos) {
            this.err = err;
            this.label = label;
            this.delayNanos = delayNanos;
        }

        @Override
        public void update(long done, long total) {
            int pct = total == 0 ? 100 : (int) (done * 100 / total);
            if (pct == lastPercent) return;
            if (lastPercent < 0 && System.nanoTime() - start < delayNanos) return; // not shown yet: still a fast load
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
