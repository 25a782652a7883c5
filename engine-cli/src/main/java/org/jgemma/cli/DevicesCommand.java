package org.jgemma.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.jgemma.backend.BackendProvider;
import org.jgemma.backend.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/** {@code jgemma devices}: every backend on the class path, whether it can run here, and its devices. */
@Command(name = "devices", mixinStandardHelpOptions = true, description = "List backends and devices.")
final class DevicesCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        for (BackendProvider p : Backends.providers()) {
            BackendProvider.Availability a;
            try {
                a = p.probe();
            } catch (RuntimeException | LinkageError e) {
                a = BackendProvider.Availability.no(e.toString());
            }
            out.printf("%-10s priority %3d  %s%n", p.name(), p.priority(), a.available() ? "available" : "unavailable: " + a.reason());
            if (!a.available()) continue;
            for (BackendProvider.DeviceInfo d : p.devices()) {
                out.printf("  [%d] %s%s%s%n", d.index(), d.name(),
                        d.memoryBytes() > 0 ? String.format(", %.1f GiB", d.memoryBytes() / (double) (1L << 30)) : "",
                        d.details() == null || d.details().isEmpty() ? "" : " (" + d.details() + ")");
            }
        }
        return 0;
    }
}
