package org.jgemma.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code jgemma tokenize MODEL (TEXT | --file F)}: the token ids on one line, as llama-tokenize --ids prints them. */
@Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Print the token ids of a text.")
final class TokenizeCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "a .gguf file (a vocabulary-only file will do) or an Ollama model (name:tag)")
    String model;

    @Parameters(index = "1", arity = "0..1", paramLabel = "TEXT", description = "the text (or --file)")
    String text;

    @Option(names = {"-f", "--file"}, paramLabel = "F", description = "read the text from a file (UTF-8)")
    Path file;

    @Option(names = "--no-bos", description = "do not add BOS")
    boolean noBos;

    @Option(names = "--no-parse-special", description = "treat <start_of_turn> and the like as plain text")
    boolean noParseSpecial;

    @Override
    public Integer call() throws Exception {
        if ((text == null) == (file == null)) {
            throw new ParameterException(spec.commandLine(), "give either TEXT or --file F");
        }
        String text = file != null ? Files.readString(file) : this.text;
        try (GgufFile f = GgufFile.open(Cli.resolveModel(model))) {
            int rows = f.findTensor("token_embd.weight").map(GgufTensorInfo::rowCount).map(Long::intValue).orElse(Integer.MAX_VALUE);
            Tokenizer t = Tokenizer.from(f, rows);
            int[] ids = t.encode(text, !noBos, !noParseSpecial);
            spec.commandLine().getOut().println(IntStream.of(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
        }
        return 0;
    }
}
