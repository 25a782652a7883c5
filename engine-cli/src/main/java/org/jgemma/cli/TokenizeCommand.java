package org.jgemma.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.jgemma.gguf.GgufFile;
import org.jgemma.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jgemma tokenize MODEL (TEXT | --file F | -)}: the token ids on one line, as {@code llama-tokenize --ids}
 * prints them, or with {@code --show-pieces} one token a line as llama-tokenize's default ({@code id -> 'piece'}).
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Print the token ids of a text.")
final class TokenizeCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "a .gguf file (a vocabulary-only file will do) or an Ollama model (name:tag)")
    String model;

    @Parameters(index = "1", arity = "0..1", paramLabel = "TEXT", description = "the text; - reads standard input (or --file)")
    String text;

    @Option(names = {"-f", "--file"}, paramLabel = "F", description = "read the text from file F (UTF-8); - is standard input")
    String file;

    @Option(names = "--show-pieces", description = "one token a line with its text, as llama-tokenize prints them: `   id -> 'piece'`")
    boolean showPieces;

    @Option(names = "--no-bos", description = "do not add BOS")
    boolean noBos;

    @Option(names = "--no-parse-special", description = "treat <start_of_turn> and the like as plain text")
    boolean noParseSpecial;

    @Override
    public Integer call() throws Exception {
        if ((text == null) == (file == null)) {
            throw new ParameterException(spec.commandLine(), "give either TEXT or --file F");
        }
        String source = file != null ? file : this.text.equals("-") ? "-" : null;
        String text = source == null ? this.text
                : source.equals("-") ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                : Files.readString(Path.of(source), StandardCharsets.UTF_8);
        try (GgufFile f = GgufFile.open(Cli.resolveModel(model))) {
            Tokenizer t = Tokenizer.from(f); // cut to token_embd's rows, as the model uses it (no Long::intValue wrap)
            int[] ids = t.encode(text, !noBos, !noParseSpecial);
            PrintWriter out = spec.commandLine().getOut();
            if (showPieces) { // llama.cpp tools/tokenize/tokenize.cpp: printf("%6d -> '%s'\n", id, piece), special tokens rendered
                for (int id : ids) {
                    out.printf(Locale.ROOT, "%6d -> '%s'%n", id, new String(t.pieceBytes(id, true), StandardCharsets.UTF_8));
                }
            } else {
                out.println(IntStream.of(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
            }
        }
        return 0;
    }
}
