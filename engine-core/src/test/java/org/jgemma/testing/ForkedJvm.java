package org.jgemma.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs a main class of the test class path in a fresh JVM (the project's JVM flags, the {@code jgemma.*} system
 * properties of this one, plus {@code jvmArgs} such as {@code -Xmx256m}) and returns its exit code, stdout and stderr.
 * For what one JVM cannot show about itself: a cold first run, a small heap, an error that must not leave a mapping.
 */
public final class ForkedJvm {
    private ForkedJvm() {}

    public record Result(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    public static Result run(List<String> jvmArgs, Class<?> main, String... args) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xss4m"));
        for (String k : System.getProperties().stringPropertyNames()) {
            if (k.startsWith("jgemma.")) cmd.add("-D" + k + "=" + System.getProperty(k));
        }
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main.getName());
        cmd.addAll(List.of(args));
        Path errFile = Files.createTempFile("forked-jvm", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectError(errFile.toFile()).start();
            p.getOutputStream().close();
            CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> {
                try {
                    return p.getInputStream().readAllBytes();
                } catch (IOException e) {
                    return ("(stdout unreadable: " + e + ")").getBytes(StandardCharsets.UTF_8);
                }
            });
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError("forked JVM " + main.getSimpleName() + " hung (10 minutes):\n--- stdout\n"
                        + new String(out.join(), StandardCharsets.UTF_8) + "--- stderr\n" + Files.readString(errFile));
            }
            return new Result(p.exitValue(), new String(out.join(), StandardCharsets.UTF_8), Files.readString(errFile));
        } finally {
            Files.deleteIfExists(errFile);
        }
    }
}
