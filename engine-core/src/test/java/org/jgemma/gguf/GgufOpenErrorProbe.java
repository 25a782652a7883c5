package org.jgemma.gguf;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run in a small-heap JVM by {@link GgufOpenErrorTest}: opens {@code big} (metadata that needs more heap than the JVM
 * has, under the parser's own limit) {@code tries} times, each ending in a real {@link OutOfMemoryError} after the
 * file was mapped, and prints how many mappings of and descriptors on the file are left. A control first: {@code small}
 * opened shows up in /proc/self/maps, and is gone once closed, so the count is not vacuous.
 * Arguments: big, small, tries.
 */
public final class GgufOpenErrorProbe {
    public static void main(String[] args) throws Exception {
        Path big = Path.of(args[0]).toRealPath(), small = Path.of(args[1]).toRealPath();
        int tries = Integer.parseInt(args[2]);
        try (GgufFile f = GgufFile.open(small)) {
            System.out.println("control open: mappings " + mappings(small) + ", fds " + fds(small) + ", mapped " + f.isMapped());
        }
        System.out.println("control closed: mappings " + mappings(small) + ", fds " + fds(small));
        int errors = 0;
        for (int i = 0; i < tries; i++) {
            try (GgufFile f = GgufFile.open(big)) {
                System.out.println("opened without an error (heap too large for this probe): " + f.metadata().size());
            } catch (OutOfMemoryError e) {
                errors++;
            }
        }
        System.out.println("errors " + errors + " of " + tries + ": mappings " + mappings(big) + ", fds " + fds(big));
    }

    /** Lines of /proc/self/maps that map {@code p}. */
    static long mappings(Path p) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.endsWith(" " + p)).count();
    }

    /** Open descriptors of this process on {@code p}. */
    static long fds(Path p) throws IOException {
        long n = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : ds) {
                try {
                    if (Files.readSymbolicLink(fd).equals(p)) n++;
                } catch (IOException e) { // the descriptor closed while listed (the listing's own)
                }
            }
        }
        return n;
    }
}
