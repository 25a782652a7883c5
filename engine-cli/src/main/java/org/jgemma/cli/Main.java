package org.jgemma.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
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
    @Option(names = "--verbose", scope = ScopeType.INHERIT,
            description = "More on stderr: load time and tokens/s (run), the stack trace of an error.")
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
                new QuantizeCommand(),
                new CompareCommand(),
                new DevicesCommand(),
                new ListCommand(),
                new ShowCommand(),
                new PsCommand(),
                new ServeCommand(),
                new CommandLine.HelpCommand());
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
        cl.setParameterExceptionHandler(Main::badCommandLine);
        return cl;
    }

    /** Runs one command line and returns the exit code (tests call this; {@link #main} exits with it). */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        return run(commandLine(out, err), args);
    }

    /** Runs {@code cl}; an Error picocli lets through (OutOfMemoryError, StackOverflowError) is one line too. */
    static int run(CommandLine cl, String... args) {
        PrintWriter out = cl.getOut(), err = cl.getErr();
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError | StackOverflowError e) {
            err.println("jgemma: " + describe(e));
            if (Arrays.asList(args).contains("--verbose")) e.printStackTrace(err);
            return 1;
        } finally {
            out.flush();
            err.flush();
        }
    }

    public static void main(String[] args) {
        String fd = System.getProperty("jgemma.stderr.fd"); // set by bin/jgemma, see Stderr
        if (fd != null && fd.matches("[3-9]")) Stderr.restore(Integer.parseInt(fd));
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

    /** A bad command line: one line saying what is wrong, and where the help is (not the whole usage). */
    private static int badCommandLine(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        String name = cl.getCommandSpec().qualifiedName();
        err.println(name + ": " + e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("Try '" + name + " --help' for more information.");
        err.flush();
        return 2;
    }

    static String describe(Throwable e) {
        String m = e.getMessage();
        return switch (e) {
            case NoSuchFileException x when x.getReason() != null -> x.getFile() + ": " + x.getReason();
            case NoSuchFileException x -> "no such file: " + x.getFile();
            case AccessDeniedException x -> "permission denied: " + x.getFile();
            case java.nio.file.FileSystemException x when x.getReason() != null -> x.getFile() + ": " + x.getReason();
            case OutOfMemoryError x -> "out of memory (" + m + "); give the JVM more heap with JAVA_OPTS=-Xmx...";
            case StackOverflowError x -> "stack overflow; give the JVM a larger stack with JAVA_OPTS=-Xss...";
            default -> m == null || m.isBlank() ? e.getClass().getSimpleName() : org.jgemma.text.ControlChars.escape(m);
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
