package org.jgemma.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.jgemma.ollama.ModelReference;
import org.jgemma.ollama.OllamaStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jgemma list}: the models this machine has, like {@code ollama list}: those pulled with Ollama (its stores,
 * {@link OllamaStore#standard()}) and the {@code .gguf} files of a models folder ({@code ./models} unless
 * {@code --dir}), with size, quantization and age.
 */
@Command(name = "list", aliases = "ls", mixinStandardHelpOptions = true,
        description = "List local models: Ollama's store and the .gguf files of a folder.")
final class ListCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR", description = "folder of .gguf files to list too (default: ./models)")
    Path dir;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "SIZE", "QUANTIZATION", "MODIFIED"});
        for (OllamaStore.Entry e : OllamaStore.standard().list()) {
            rows.add(new String[] {e.name(), humanBytes(e.size()), quantization(e.model()), ago(e.modified())});
        }
        Path folder = dir != null ? dir : Path.of("models");
        if (dir != null && !Files.isDirectory(dir)) throw new java.nio.file.NoSuchFileException(dir.toString(), null, "not a folder");
        if (Files.isDirectory(folder)) {
            List<Path> files;
            try (Stream<Path> s = Files.find(folder, 3, (p, a) -> a.isRegularFile() && p.toString().toLowerCase(Locale.ROOT).endsWith(".gguf"))) {
                files = s.sorted().toList();
            }
            for (Path f : files) {
                rows.add(new String[] {f.toString(), humanBytes(Files.size(f)), quantization(f), ago(Files.getLastModifiedTime(f))});
            }
        }
        table(rows, out);
        return 0;
    }

    private static String quantization(Path gguf) {
        try {
            return ModelInfo.of(ModelReference.ofFile(gguf)).quantization();
        } catch (IOException | RuntimeException e) {
            return "? (" + Main.describe(e) + ")";
        }
    }

    /** Ollama's format.HumanBytes: decimal units, as {@code ollama list} shows them. */
    static String humanBytes(long b) {
        if (b >= 1_000_000_000L) return String.format(Locale.ROOT, "%.1f GB", b / 1e9);
        if (b >= 1_000_000L) return String.format(Locale.ROOT, "%.0f MB", b / 1e6);
        if (b >= 1_000L) return String.format(Locale.ROOT, "%.0f KB", b / 1e3);
        return b + " B";
    }

    static String ago(FileTime t) {
        Duration d = Duration.between(t.toInstant(), Instant.now());
        if (d.toMinutes() < 1) return "Less than a minute ago";
        if (d.toHours() < 1) return d.toMinutes() + " minutes ago";
        if (d.toDays() < 1) return d.toHours() + " hours ago";
        if (d.toDays() < 30) return d.toDays() + " days ago";
        return d.toDays() / 30 + " months ago";
    }

    /** Left-aligned columns separated by four spaces (Ollama's tablewriter settings). */
    static void table(List<String[]> rows, PrintWriter out) {
        int cols = rows.getFirst().length;
        int[] w = new int[cols];
        for (String[] r : rows) for (int i = 0; i < cols; i++) w[i] = Math.max(w[i], r[i].length());
        for (String[] r : rows) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < cols; i++) {
                sb.append(r[i]);
                if (i < cols - 1) sb.append(" ".repeat(w[i] - r[i].length() + 4));
            }
            out.println(sb.toString().stripTrailing());
        }
    }
}
