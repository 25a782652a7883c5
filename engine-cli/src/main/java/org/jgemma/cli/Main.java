package org.jgemma.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code jgemma}: run, inspect and measure Gemma 3 GGUF models. Exit codes: 0 success, 1 failure, 2 bad usage. */
@Command(name = "jgemma", mixinStandardHelpOptions = true, version = "jgemma 0.1.0",
        description = "Gemma 3 inference from GGUF files on the CPU, CUDA and OpenCL.",
        subcommands = {RunCommand.class, TokenizeCommand.class, LogitsCommand.class, BenchCommand.class,
                PerplexityCommand.class, DevicesCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The configured command line: errors print "error: ..." and exit 1; usage errors exit 2. */
    public static CommandLine commandLine(PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            String msg = ex.getMessage() != null ? ex.getMessage() : ex.toString();
            line.getErr().println("error: " + msg);
            if (System.getenv("JGEMMA_DEBUG") != null) ex.printStackTrace(line.getErr());
            return 1;
        });
        return cl;
    }

    /** Runs {@code args} in-process and returns the exit code. */
    public static int run(PrintStream out, PrintStream err, String... args) {
        return commandLine(out, err).execute(args);
    }

    public static void main(String[] args) {
        int code = run(System.out, System.err, args);
        System.out.flush();
        System.exit(code);
    }
}
