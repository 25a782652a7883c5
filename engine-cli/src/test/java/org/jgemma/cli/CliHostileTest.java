package org.jgemma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.jgemma.gguf.GgufValue;
import org.jgemma.testing.Fixtures;
import org.jgemma.testing.HostileModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Hostile files and fatal errors give one line on stderr, with the file's control characters escaped. */
class CliHostileTest {
    @TempDir
    Path tmp;

    @CommandLine.Command(name = "boom")
    static final class Boom implements Runnable {
        @Override
        public void run() {
            throw new OutOfMemoryError("Java heap space");
        }
    }

    @Test
    void outOfMemoryIsOneLine() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = Main.commandLine(new PrintWriter(out), new PrintWriter(err));
        cl.addSubcommand(new Boom());
        assertEquals(1, Main.run(cl, "boom"));
        assertEquals(1, err.toString().lines().count(), err.toString());
        assertTrue(err.toString().startsWith("jgemma: out of memory (Java heap space)"), err.toString());
    }

    @Test
    void aTemplateIncludeIsOneLine() throws Exception {
        Path p = HostileModels.write(Fixtures.file("tiny/gemma3-tiny-f32.gguf"), tmp.resolve("t.gguf"),
                w -> w.put("tokenizer.chat_template", GgufValue.ofString("{% include 'META-INF/MANIFEST.MF' %}")));
        CliTest.Result r = CliTest.run("run", p.toString(), "hello", "-n", "2", "--backend", "reference");
        assertEquals(1, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("cannot load other templates"), r.err());
        assertFalse(r.out().contains("Manifest"), r.out());
    }

    @Test
    void inspectEscapesControlCharacters() throws Exception {
        Path p = HostileModels.write(Fixtures.file("tiny/gemma3-tiny-f32.gguf"), tmp.resolve("t.gguf"),
                w -> w.put("general.name\u001b[2J", GgufValue.ofString("\u001b]0;owned\u0007 red \u001b[31m")));
        CliTest.Result r = CliTest.run("inspect", p.toString());
        assertEquals(0, r.code(), r.err());
        assertFalse(r.out().contains("\u001b") || r.out().contains("\u0007"), "raw escapes printed");
        assertTrue(r.out().contains("general.name\\x1b[2J = "), r.out());
    }
}
