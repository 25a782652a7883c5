package org.jgemma.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;

/**
 * {@code jgemma}: the command line. Subcommands are registered in {@link #subcommands()}, the one place to add
 * {@code run}, {@code tokenize}, {@code logits}, {@code bench}, {@code perplexity}, {@code devices}.
 * <p>Exit codes: 0 success, 1 failure (one line on stderr; the stack trace too with {@code --verbose}),
 * 2 bad command line (picocli's message and usage).
 */
@Command(name = "jgemma", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Runs Google Gemma 3 models from GGUF files (CPU, CUDA, OpenCL).",
        synopsisSubcommandLabel = "COMMAND")
public final class Main implements Runnable {
    /** Shared by every subcommand (picocli copies inherited options down). */
    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces of errors.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Every subcommand, in the order {@code jgemma --help} lists them. Register new subcommands here. */
    static List<Object> subcommands() {
        return List.of(
                new InspectCommand(),
                new RunCommand(),
                new TokenizeCommand(),
                new LogitsCommand(),
                new BenchCommand(),
                new PerplexityCommand(),
                new DevicesCommand(),
                new ServeCommand());
    }

    @Override
    public void run() {
        // no subcommand: show what there is
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing a command, one of: "
                + String.join(", ", spec.subcommands().keySet()));
    }

    /** The command line, wired to {@code out} and {@code err}. */
    static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        for (Object sub : subcommands()) cl.addSubcommand(sub);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler(Main::handle);
        return cl;
    }

    /** Runs one command line and returns the exit code (tests call this; {@link #main} exits with it). */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        try {
            return commandLine(out, err).execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, false, java.nio.charset.StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, java.nio.charset.StandardCharsets.UTF_8);
        System.exit(run(out, err, args));
    }

    /** Failures print one line, "jgemma SUBCOMMAND: what went wrong", unless --verbose asks for the trace. */
    private static int handle(Exception e, CommandLine cl, ParseResult pr) {
        PrintWriter err = cl.getErr();
        err.println(cl.getCommandSpec().qualifiedName() + ": " + describe(e));
        if (verbose(pr)) e.printStackTrace(err);
        err.flush();
        return 1;
    }

    static String describe(Throwable e) {
        String m = e.getMessage();
        return switch (e) {
            case NoSuchFileException x when x.getReason() != null -> x.getFile() + ": " + x.getReason();
            case NoSuchFileException x -> "no such file: " + x.getFile();
            case AccessDeniedException x -> "permission denied: " + x.getFile();
            case java.nio.file.FileSystemException x when x.getReason() != null -> x.getFile() + ": " + x.getReason();
            case OutOfMemoryError x -> "out of memory (" + m + "); give the JVM more heap with JAVA_OPTS=-Xmx...";
            default -> m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
        };
    }

    private static boolean verbose(ParseResult pr) {
        for (ParseResult p = pr; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) return true;
        }
        return false;
    }

    /** {@code --version}: the Maven project version and the Java runtime. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
                if (in != null) p.load(in);
            }
            return new String[] {"jgemma " + p.getProperty("version", "unknown"),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
