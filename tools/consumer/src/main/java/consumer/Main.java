package consumer;

import java.nio.file.Path;
import java.util.List;
import org.jgemma.api.ChatSession;
import org.jgemma.api.GenerationOptions;
import org.jgemma.api.GenerationResult;
import org.jgemma.api.Model;
import org.jgemma.api.ModelOptions;
import org.jgemma.api.TokenListener;
import org.jgemma.ollama.ModelReference;
import org.jgemma.ollama.OllamaStore;

/**
 * An application using jgemma through its published artifacts: the calls that failed with an inconsistent
 * dependency set (Jackson reading an Ollama manifest, Jinjava rendering the chat template), then a short chat on
 * the CPU backend. Arguments: an Ollama store holding {@code consumer:tiny}. Exits non-zero on any failure.
 */
public final class Main {
    public static void main(String[] args) throws Exception {
        String core = com.fasterxml.jackson.core.json.PackageVersion.VERSION.toString();
        String databind = com.fasterxml.jackson.databind.cfg.PackageVersion.VERSION.toString();
        if (!core.equals(databind)) throw new AssertionError("jackson-core " + core + " next to jackson-databind " + databind);
        OllamaStore store = new OllamaStore(List.of(Path.of(args[0])));
        ModelReference ref = ModelReference.resolve("consumer:tiny", store);
        Path path = Model.resolve("consumer:tiny", store);
        if (!path.equals(ref.path())) throw new AssertionError(path + " vs " + ref.path());
        try (Model model = Model.open(path, ModelOptions.defaults().withBackend("cpu").withContextSize(64));
             ChatSession chat = model.newChat("You are terse.")) {
            GenerationResult r = chat.send("Hi", GenerationOptions.defaults().withMaxTokens(4).withTopK(20).withTopP(0.9f)
                    .withMinP(0.05f).withSeed(1), TokenListener.text(s -> { }));
            if (r.tokens().length == 0) throw new AssertionError("no tokens generated");
            System.out.println("consumer OK: jackson " + core + ", " + model.backendName() + " backend, " + r.tokens().length
                    + " tokens, template from " + ref.name());
        }
    }
}
