package org.jgemma.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** UTF-8 assembly and stop strings on hand-made input. */
class StreamingTest {

    @Test
    void multiByteCharactersWaitUntilComplete() {
        Utf8Assembler u = new Utf8Assembler();
        byte[] euro = "€".getBytes(StandardCharsets.UTF_8); // E2 82 AC
        byte[] smile = "😀".getBytes(StandardCharsets.UTF_8); // F0 9F 98 80
        assertEquals("a", u.push(new byte[] {'a', euro[0]}));
        assertEquals("", u.push(new byte[] {euro[1]}));
        assertEquals("€", u.push(new byte[] {euro[2]}));
        assertEquals("", u.push(new byte[] {smile[0], smile[1], smile[2]}));
        assertEquals("😀b", u.push(new byte[] {smile[3], 'b'}));
        assertEquals("", u.push(new byte[] {(byte) 0xC3}));
        assertEquals("\uFFFD", u.flush()); // an unfinished character at the end is replaced
        assertEquals("\uFFFDx", u.push(new byte[] {(byte) 0x80, 'x'})); // a stray continuation byte
    }

    @Test
    void stopStringsAreCutAndPrefixesHeldBack() {
        StopMatcher m = new StopMatcher(List.of("</s>", "STOP"));
        assertEquals("Hello ", m.push("Hello <"));
        assertEquals("", m.push("/"));
        assertEquals("</x", m.push("x"));
        assertEquals(" ", m.push(" ST"));
        assertEquals("", m.push("O"));
        assertEquals("", m.push("P and more"));
        assertEquals(true, m.stopped());
        StopMatcher n = new StopMatcher(List.of("ab"));
        assertEquals("", n.push("a"));
        assertEquals("a", n.flush());
        StopMatcher none = new StopMatcher(List.of());
        assertEquals("abc", none.push("abc"));
    }
}
