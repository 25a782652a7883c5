package org.jgemma.cli;

import org.jgemma.api.ModelOptions;
import picocli.CommandLine.Option;

/** Options shared by the commands that load a model. */
public final class CommonOptions {
    @Option(names = "--backend", defaultValue = "auto", description = "auto, cpu, cuda, opencl or reference (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = {"-t", "--threads"}, defaultValue = "0", description = "CPU threads (0: all cores)")
    int threads;

    ModelOptions modelOptions(int contextSize) {
        return ModelOptions.defaults().withBackend(backend).withThreads(threads).withContextSize(contextSize);
    }
}
