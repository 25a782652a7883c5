package org.jgemma.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The committed PTX of the kernels ({@code org/jgemma/cuda/ptx/*.ptx}, listed in {@code index.txt}; compiled from
 * src/main/cuda by build-ptx.sh). Reading and parsing needs no GPU: {@link #entries} finds the kernels' names, so a
 * test checks that every kernel the host launches exists.
 */
final class Ptx {
    private Ptx() {}

    static final String DIR = "/org/jgemma/cuda/ptx/";
    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+([A-Za-z_][A-Za-z0-9_]*)\\s*\\(");

    /** Module names (file names without .ptx), from index.txt. */
    static List<String> modules() {
        String index = new String(read("index.txt"), StandardCharsets.UTF_8);
        List<String> names = new ArrayList<>();
        for (String line : index.split("\n")) {
            line = line.strip();
            if (line.isEmpty()) continue;
            if (!line.endsWith(".ptx")) throw new IllegalStateException("bad line in " + DIR + "index.txt: " + line);
            names.add(line.substring(0, line.length() - 4));
        }
        return names;
    }

    /** The PTX text of a module, NUL-terminated as cuModuleLoadData wants it. */
    static byte[] image(String module) {
        byte[] text = read(module + ".ptx");
        byte[] z = new byte[text.length + 1];
        System.arraycopy(text, 0, z, 0, text.length);
        return z;
    }

    /** Kernel name → module name over all modules; a name defined twice is an error. */
    static Map<String, String> entries() {
        Map<String, String> map = new LinkedHashMap<>();
        for (String m : modules()) {
            Matcher x = ENTRY.matcher(new String(read(m + ".ptx"), StandardCharsets.UTF_8));
            while (x.find()) {
                String prev = map.put(x.group(1), m);
                if (prev != null) throw new IllegalStateException("kernel " + x.group(1) + " is defined in " + prev + ".ptx and " + m + ".ptx");
            }
        }
        return map;
    }

    static byte[] read(String file) {
        try (InputStream in = Ptx.class.getResourceAsStream(DIR + file)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + DIR + file
                        + " (engine-cuda's PTX; run engine-cuda/src/main/cuda/build-ptx.sh update)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + DIR + file, e);
        }
    }
}
