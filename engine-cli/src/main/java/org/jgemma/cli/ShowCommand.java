package org.jgemma.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.jgemma.ollama.ModelReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jgemma show MODEL}: architecture, parameters, context length, embedding length, quantization, and for an
 * Ollama model its params, system message and license, as {@code ollama show} prints them; {@code --template},
 * {@code --parameters}, {@code --system}, {@code --license} print just that part.
 */
@Command(name = "show", mixinStandardHelpOptions = true, description = "Show a model's details (like `ollama show`).")
final class ShowCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "a .gguf file or an Ollama model (name:tag)")
    String model;

    @Option(names = "--template", description = "only the prompt template (Ollama's template layer)") boolean template;
    @Option(names = "--parameters", description = "only the parameters (Ollama's params layer)") boolean parameters;
    @Option(names = "--system", description = "only the system message") boolean system;
    @Option(names = "--license", description = "only the license") boolean license;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        ModelReference ref = ModelReference.resolve(model);
        if (template) {
            out.println(ref.template() != null ? ref.template() : "(no template layer: prompts use the GGUF's chat template, else Gemma's turn format)");
        } else if (parameters) {
            ModelInfo.printParams(ref.params(), out, "");
        } else if (system) {
            if (ref.system() != null) out.println(ref.system());
        } else if (license) {
            out.println(String.join("\n", ref.license()));
        } else {
            ModelInfo.of(ref).print(ref, out);
        }
        return 0;
    }
}
