package org.jgemma.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;
import java.util.stream.Collectors;

/** Discovers backends with {@link ServiceLoader} and picks one (STYLE 8: discovered, not wired). */
public final class Backends {
    private Backends() {}

    /** Every provider on the class path, highest priority first. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> list = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class).forEach(list::add);
        list.sort(Comparator.comparingInt(BackendProvider::priority).reversed());
        return list;
    }

    /** The provider named {@code name}, or for {@code auto} the available one of highest priority (never the reference). */
    public static BackendProvider select(String name) {
        List<BackendProvider> all = providers();
        if (name == null || name.equals("auto")) {
            for (BackendProvider p : all) {
                if (p.priority() > 0 && p.probe().available()) return p;
            }
            throw new BackendUnavailableException("no backend is available: " + describe(all));
        }
        for (BackendProvider p : all) {
            if (p.name().equals(name)) {
                BackendProvider.Availability a = p.probe();
                if (!a.available()) throw new BackendUnavailableException("backend '" + name + "' is not available: " + a.reason());
                return p;
            }
        }
        throw new BackendUnavailableException("unknown backend '" + name + "'; on the class path: "
                + all.stream().map(BackendProvider::name).collect(Collectors.joining(", ")));
    }

    /** Creates the backend {@code name} ({@code auto}, {@code cpu}, {@code cuda}, {@code opencl}, {@code reference}). */
    public static Backend create(String name, BackendOptions options) {
        return select(name).create(options);
    }

    private static String describe(List<BackendProvider> all) {
        return all.stream().map(p -> p.name() + " (" + p.probe().reason() + ")").collect(Collectors.joining("; "));
    }
}
