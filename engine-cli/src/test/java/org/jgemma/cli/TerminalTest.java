package org.jgemma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI as a separate process: the interactive chat through a pseudo-terminal (expect), and stdout staying the
 * command's output on a machine without OpenCL.
 */
class TerminalTest {
    static final String MODEL = "tinygqa/gemma3-tinygqa-q4_k_m.gguf";

    /** {@code java ... org.jgemma.cli.Main} with this test's class path, the launcher's JVM flags and {@code props}. */
    static List<String> jgemma(Path home, List<String> props, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-Duser.home=" + home);
        cmd.addAll(props);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("org.jgemma.cli.Main");
        cmd.addAll(List.of(args));
        return cmd;
    }

    static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }

    record Run(int code, String out, String err) {}

    static Run exec(List<String> cmd, Path dir) throws IOException, InterruptedException {
        Path out = dir.resolve("stdout"), err = dir.resolve("stderr");
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + cmd);
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    private static Path script(Path dir, String name) throws IOException {
        try (InputStream in = TerminalTest.class.getResourceAsStream(name)) {
            Path f = dir.resolve(name);
            Files.write(f, in.readAllBytes());
            return f;
        }
    }

    @Test
    void ctrlCStopsTheReplyAndKeepsTheConversation(@TempDir Path tmp) throws Exception {
        assumeTrue(onPath("expect"), "expect is not installed (apt-get install expect): the pseudo-terminal chat test cannot run");
        Path save = tmp.resolve("chat.json");
        List<String> cmd = new ArrayList<>(List.of("expect", script(tmp, "chat.exp").toString(), save.toString()));
        // the reference backend is slow enough (a few tokens/s) that 4 s after sending is mid-reply
        cmd.addAll(jgemma(tmp, List.of(), "run", Fixtures.file(MODEL).toString(), "--backend", "reference", "-n", "2000", "--seed", "7"));
        Run r = exec(cmd, tmp);
        assertEquals(0, r.code(), r.out().substring(r.out().indexOf('\n') + 1) + r.err());
        assertTrue(r.out().contains("Chatting with gemma3-tinygqa-q4_k_m.gguf"), r.out());
        JsonNode saved = new ObjectMapper().readTree(save.toFile());
        JsonNode messages = saved.get("messages");
        assertEquals(2, messages.size(), saved.toString());
        assertEquals("user", messages.get(0).get("role").asText());
        assertEquals("first line\nsecond line", messages.get(0).get("content").asText()); // the """ message, joined
        assertEquals("assistant", messages.get(1).get("role").asText());
        // the reply was cut short: chat.exp saw "(stopped; ...)", which the chat prints only when Ctrl-C interrupts a
        // reply (a Ctrl-C after a finished reply lands on the empty prompt and prints the exit hint instead); the part
        // streamed before it is kept. (Its length says nothing: on an idle machine the reference backend streams
        // thousands of characters a second.)
        assertFalse(messages.get(1).get("content").asText().isEmpty(), messages.get(1).toString());
        assertTrue(Files.exists(tmp.resolve(".jgemma/history")), "history file");
    }

    @Test
    void ctrlDExitsWithANewline(@TempDir Path tmp) throws Exception {
        assumeTrue(onPath("expect"), "expect is not installed (apt-get install expect): the pseudo-terminal chat test cannot run");
        List<String> cmd = new ArrayList<>(List.of("expect", script(tmp, "ctrl-d.exp").toString()));
        cmd.addAll(jgemma(tmp, List.of(), "run", Fixtures.file(MODEL).toString(), "--backend", "reference"));
        Run r = exec(cmd, tmp);
        assertEquals(0, r.code(), r.out() + r.err());
    }

    @Test
    void benchJsonIsJsonWithoutOpenCl(@TempDir Path tmp) throws Exception {
        // simulate a machine without an OpenCL runtime: the library the OpenCL provider checks for is absent
        Run r = exec(jgemma(tmp, List.of("-Djgemma.opencl.library=libjgemma-no-such-opencl.so"), "bench",
                Fixtures.file(MODEL).toString(), "-p", "4", "-n", "2", "-r", "1", "--warmup", "0", "--json"), tmp);
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out()); // all of stdout is the one JSON object
        assertEquals("cpu", j.get("backend").asText(), r.out());
        assertEquals(Runtime.getRuntime().availableProcessors(), j.get("threads").asInt());
        assertFalse(r.err().contains("Could not load"), r.err());
        Run devices = exec(jgemma(tmp, List.of("-Djgemma.opencl.library=libjgemma-no-such-opencl.so"), "devices"), tmp);
        assertEquals(0, devices.code(), devices.err());
        assertTrue(devices.out().contains("opencl") && devices.out().contains("libjgemma-no-such-opencl.so"), devices.out());
        assertFalse(devices.out().contains("Could not load"), devices.out());
    }

    @Test
    void chatWithoutATerminalReadsOneMessageALine(@TempDir Path tmp) throws Exception {
        Path save = tmp.resolve("saved.json");
        Path in = Files.writeString(tmp.resolve("in.txt"), "Hello\n/set parameter num_predict 2\n/set system Be brief.\nHi again\n/save "
                + save + "\n", StandardCharsets.UTF_8);
        List<String> cmd = jgemma(tmp, List.of(), "run", Fixtures.file(MODEL).toString(), "--backend", "reference", "-n", "3", "--seed", "1");
        Path out = tmp.resolve("o"), err = tmp.resolve("e");
        Process p = new ProcessBuilder(cmd).redirectInput(in.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), Files.readString(err));
        assertEquals(2, Files.readAllLines(out).size(), Files.readString(out)); // two replies, one line each; nothing else
        assertTrue(Files.readString(err).contains("Set parameter 'num_predict' to '2'"), Files.readString(err));
        // /set system replaced the conversation's system message and kept the turns (Ollama's messages, Gemma's order)
        JsonNode m = new ObjectMapper().readTree(save.toFile()).get("messages");
        assertEquals(List.of("system", "user", "assistant", "user", "assistant"),
                java.util.stream.StreamSupport.stream(m.spliterator(), false).map(x -> x.get("role").asText()).toList());
        assertEquals("Be brief.", m.get(0).get("content").asText());
        assertEquals("Hi again", m.get(3).get("content").asText());
    }
}
