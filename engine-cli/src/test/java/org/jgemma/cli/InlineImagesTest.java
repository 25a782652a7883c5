package org.jgemma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jgemma.testing.VisionFixture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Image paths typed in a chat message, as Ollama's cmd/interactive.go extractFileData takes them. */
class InlineImagesTest {
    @TempDir
    Path tmp;
    Path png, spaced;

    @BeforeEach
    void images() throws Exception {
        png = Files.copy(VisionFixture.image("image2_224x224"), tmp.resolve("a.png"));
        Files.createDirectories(tmp.resolve("my pics"));
        spaced = Files.copy(VisionFixture.image("image1_300x200"), tmp.resolve("my pics/image (1).PNG"));
    }

    @Test
    void plainPathIsTakenOutAndTheTextTrimmed() throws Exception {
        InlineImages.Message m = InlineImages.extract(png + " What is in this picture?");
        assertEquals("What is in this picture?", m.text());
        assertEquals(List.of(png.toString()), m.paths());
        assertEquals(224, m.images().getFirst().width());
        InlineImages.Message mid = InlineImages.extract("Describe " + png + " briefly.");
        assertEquals("Describe  briefly.", mid.text()); // removed in place, as Ollama's strings.ReplaceAll
    }

    @Test
    void escapedAndQuotedPathsWithSpaces() throws Exception {
        String escaped = spaced.toString().replace(" ", "\\ ").replace("(", "\\(").replace(")", "\\)");
        InlineImages.Message e = InlineImages.extract(escaped + " what is it?");
        assertEquals(List.of(spaced.toString()), e.paths());
        assertEquals("what is it?", e.text());
        assertEquals(300, e.images().getFirst().width());
        InlineImages.Message q = InlineImages.extract("'" + spaced + "' what is it?"); // a terminal's drag and drop
        assertEquals(List.of(spaced.toString()), q.paths());
        assertEquals("what is it?", q.text());
        InlineImages.Message d = InlineImages.extract("compare \"" + spaced + "\" and " + png);
        assertEquals(List.of(spaced.toString(), png.toString()), d.paths());
        assertEquals("compare  and", d.text());
        InlineImages.Message u = InlineImages.extract(spaced + " what is it?"); // unescaped spaces: Ollama's regex takes them
        assertEquals(List.of(spaced.toString()), u.paths());
    }

    @Test
    void aLongerLazyMatchFallsBackToThePathAfterASpace() throws Exception {
        // Ollama's [\S\\ ]+? starts at "/etc" and runs to ".png"; the path that exists is the one after the space
        InlineImages.Message m = InlineImages.extract("not /etc but " + png);
        assertEquals(List.of(png.toString()), m.paths());
        assertEquals("not /etc but", m.text());
    }

    @Test
    void relativePathsAndCase() throws Exception {
        Path rel = Path.of("").toAbsolutePath().relativize(png);
        InlineImages.Message m = InlineImages.extract("./" + rel + " hi");
        assertEquals(1, m.images().size());
        assertTrue(InlineImages.PATH.matcher("/x/Y.JPEG").find());
        assertTrue(InlineImages.PATH.matcher("C:\\pics\\y.webp").find());
        assertFalse(InlineImages.PATH.matcher("/x/y.gif").find()); // Ollama's list: jpg, jpeg, png, webp
        assertFalse(InlineImages.PATH.matcher("/x/y.pngs").find());
    }

    @Test
    void textWithoutPathsAndUrlsStaysText() throws Exception {
        InlineImages.Message m = InlineImages.extract("see https://example.com/cat.png and tell me");
        assertEquals("see https://example.com/cat.png and tell me", m.text());
        assertTrue(m.images().isEmpty());
        assertTrue(InlineImages.extract("no images here").images().isEmpty());
    }

    @Test
    void missingOrBadFilesAreOneLineAndStopTheMessage() throws Exception {
        var missing = assertThrows(InlineImages.InlineImageException.class, () -> InlineImages.extract("/no/such/dir/x.png hi"));
        assertEquals("no such image file '/no/such/dir/x.png' (the message was not sent)", missing.getMessage());
        Path bad = Files.writeString(tmp.resolve("bad.jpg"), "not a jpeg at all");
        var b = assertThrows(InlineImages.InlineImageException.class, () -> InlineImages.extract(bad + " hi"));
        assertTrue(b.getMessage().contains(bad.toString()) && b.getMessage().contains("not sent"), b.getMessage());
        assertEquals(1, b.getMessage().lines().count(), b.getMessage());
        Path dir = Files.createDirectories(tmp.resolve("d.png"));
        var d = assertThrows(InlineImages.InlineImageException.class, () -> InlineImages.extract(dir + " hi"));
        assertTrue(d.getMessage().contains("not a file"), d.getMessage());
    }

    @Test
    void aLineStartingWithAPathIsAMessageNotACommand() {
        assertTrue(InlineImages.startsWithPath("/tmp/a.png what is it"));
        assertFalse(InlineImages.startsWithPath("/show info"));
        assertFalse(InlineImages.startsWithPath("/set system look at /tmp/a.png"));
        assertFalse(InlineImages.startsWithPath("/show info " + png)); // Ollama's prefix test would call this a path
        assertTrue(InlineImages.startsWithPath("/no/such\\ dir/x.png hi"));        // missing: a message, refused with the path named
        assertTrue(InlineImages.startsWithPath(spaced + " what"));                   // unescaped spaces: the file exists
    }

    @Test
    void normalizeUndoesShellEscapes() {
        assertEquals("/a b/(c)[d]{e}$&;'\\*?~.png", InlineImages.normalize("/a\\ b/\\(c\\)\\[d\\]\\{e\\}\\$\\&\\;\\'\\\\\\*\\?\\~.png"));
        assertEquals("/it's.png", InlineImages.normalize("/it'\\''s.png"));
    }
}
