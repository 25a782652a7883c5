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

    private static final Pattern SIGNATURE = Pattern.compile("\\.entry\\s+([A-Za-z_][A-Za-z0-9_]*)\\s*\\(([^)]*)\\)");
    private static final Pattern PARAM = Pattern.compile("\\.param\\s+(?:\\.align\\s+(\\d+)\\s+)?\\.([a-z0-9]+)\\s+[A-Za-z_][A-Za-z0-9_]*(?:\\[(\\d+)\\])?");
    private static volatile Map<String, KernelArgs.Signature> signatures;

    /** Kernel name → its .param list, over all modules (parsed once). */
    static Map<String, KernelArgs.Signature> signatures() {
        Map<String, KernelArgs.Signature> s = signatures;
        if (s != null) return s;
        Map<String, KernelArgs.Signature> map = new LinkedHashMap<>();
        for (String m : modules()) map.putAll(signatures(new String(read(m + ".ptx"), StandardCharsets.UTF_8)));
        return signatures = Map.copyOf(map);
    }

    /** The entries of one PTX text with their parameters. */
    static Map<String, KernelArgs.Signature> signatures(String ptx) {
        Map<String, KernelArgs.Signature> map = new LinkedHashMap<>();
        Matcher e = SIGNATURE.matcher(ptx);
        while (e.find()) {
            List<KernelArgs.Param> params = new ArrayList<>();
            for (String decl : e.group(2).split(",")) {
                if (decl.isBlank()) continue;
                Matcher p = PARAM.matcher(decl.strip());
                if (!p.lookingAt()) throw new IllegalStateException("kernel " + e.group(1) + ": cannot read PTX parameter '" + decl.strip() + "'");
                String type = p.group(2);
                int size = p.group(3) != null ? Integer.parseInt(p.group(3)) : switch (type) {
                    case "u64", "s64", "b64", "f64" -> 8;
                    case "u32", "s32", "b32", "f32" -> 4;
                    case "u16", "s16", "b16", "f16" -> 2;
                    case "u8", "s8", "b8" -> 1;
                    default -> throw new IllegalStateException("kernel " + e.group(1) + ": PTX parameter type ." + type);
                };
                params.add(new KernelArgs.Param(p.group(3) != null ? type + "[" + size + "]" : type, size));
            }
            map.put(e.group(1), new KernelArgs.Signature(e.group(1), List.copyOf(params)));
        }
        return map;
    }

    /** The PTX ISA version of a module ({@code .version 9.0} → {9, 0}). */
    static int[] isaVersion(String module) {
        Matcher m = Pattern.compile("(?m)^\\s*\\.version\\s+(\\d+)\\.(\\d+)").matcher(new String(read(module + ".ptx"), StandardCharsets.UTF_8));
        if (!m.find()) throw new IllegalStateException(module + ".ptx has no .version line");
        return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
    }

    /**
     * The oldest CUDA driver (cuDriverGetVersion, 1000·major + 10·minor) that JIT-compiles PTX ISA {@code major.minor}:
     * PTX 9.0 came with CUDA 13.0, 8.x with CUDA 12.x (8.0 → 12.0 ... 8.8 → 12.9; PTX ISA release notes).
     */
    static int driverFor(int major, int minor) {
        if (major >= 9) return 13000 + 10 * minor + 1000 * (major - 9);
        if (major == 8) return 12000 + 10 * Math.min(minor, 9) + (minor >= 6 ? 10 : 0);
        return 11000;
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
