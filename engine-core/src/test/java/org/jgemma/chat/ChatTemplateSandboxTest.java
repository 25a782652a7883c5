package org.jgemma.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A chat template comes from the model file, so it is untrusted code: it gets no resource loader (Jinjava's default
 * reads the class path: {@code {% include 'META-INF/MANIFEST.MF' %}} rendered the manifest), and its rendering is
 * bounded in output size, string and list growth, work and wall time. Every breach is a {@link ChatTemplateException}.
 */
class ChatTemplateSandboxTest {
    private static final List<ChatMessage> HELLO = List.of(ChatMessage.user("Hello"));

    private static ChatTemplateException fails(String source) {
        ChatTemplate t = ChatTemplate.jinja(source, "<bos>", "<eos>");
        return assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> assertThrows(ChatTemplateException.class, () -> t.render(HELLO, true)));
    }

    @Test
    void includesImportsAndExtendsHaveNoLoader() {
        for (String src : List.of("{% include 'META-INF/MANIFEST.MF' %}", "{% import 'x.j2' as m %}{{ m.f() }}",
                "{% extends 'base.j2' %}", "{% from 'x.j2' import y %}{{ y }}")) {
            ChatTemplateException e = fails(src);
            assertTrue(e.getMessage().contains("cannot load other templates"), e.getMessage());
            assertTrue(!e.getMessage().contains("Manifest-Version"), e.getMessage());
        }
    }

    @Test
    void nestedLoopsStopWithinTheTimeLimit() {
        long t0 = System.nanoTime();
        ChatTemplateException e = fails("{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
                + "{% endfor %}{% endfor %}{% endfor %}done");
        assertTrue(e.getMessage().contains("limit"), e.getMessage());
        assertTrue(System.nanoTime() - t0 < 30_000_000_000L, "took " + (System.nanoTime() - t0) / 1e9 + " s");
    }

    @Test
    void loopsWithBodiesStopAtTheWorkLimit() {
        ChatTemplateException e = fails("{% for a in range(1000) %}{% for b in range(1000) %}{% if a > b %}{% endif %}"
                + "{{ '' }}{{ '' }}{% endfor %}{% endfor %}done"); // 3 million nodes: over the 2 million budget
        assertTrue(e.getMessage().contains("limit"), e.getMessage());
    }

    @Test
    void stringDoublingStopsBeforeOutOfMemory() {
        ChatTemplateException e = fails("{% set s = 'ab' %}{% for i in range(40) %}{% set s = s ~ s %}{% endfor %}{{ s }}");
        assertTrue(e.getMessage().contains("limit"), e.getMessage());
    }

    @Test
    void hugeOutputStops() {
        ChatTemplateException e = fails("{% for a in range(1000) %}{% for b in range(1000) %}0123456789abcdef"
                + "{% endfor %}{% endfor %}");
        assertTrue(e.getMessage().contains("limit"), e.getMessage());
    }

    @Test
    void recursionStops() {
        // Jinjava refuses a macro's call of itself (recursive calls off): it renders nothing there, never loops
        ChatTemplate t = ChatTemplate.jinja("{% macro f(n) %}x{{ f(n) }}{% endmacro %}{{ f(0) }}", "", "");
        assertEquals("x", assertTimeoutPreemptively(Duration.ofSeconds(30), () -> t.render(HELLO, true)));
    }

    @Test
    void theLimitsGrowWithTheConversation() {
        // a 3 MB message through a template that repeats it: well past the fixed part of the output limit
        String big = "x".repeat(3 << 20);
        ChatTemplate t = ChatTemplate.jinja("{% for m in messages %}{{ m.content }}|{{ m.content }}{% endfor %}", "", "");
        assertEquals(2 * big.length() + 1, t.render(List.of(ChatMessage.user(big)), true).length());
    }

    @Test
    void aFailureIsOneLine() {
        ChatTemplateException e = fails("line one\n{% include 'a\nb' %}");
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }
}
