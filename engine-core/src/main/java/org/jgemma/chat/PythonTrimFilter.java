package org.jgemma.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import java.util.Objects;

/**
 * Jinja2's {@code trim} filter: Python's {@code str.strip(chars)}. Python strips Unicode whitespace (U+00A0, U+3000,
 * ...), which Jinjava's own trim (Java's {@code <= ' '} rule) does not, so HF-rendered prompts would differ.
 */
final class PythonTrimFilter implements Filter {
    @Override
    public String getName() {
        return "trim";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
        String s = Objects.toString(var, "");
        String chars = args.length > 0 && args[0] != null ? args[0] : null;
        int a = 0, b = s.length();
        while (a < b && strips(s.charAt(a), chars)) a++;
        while (b > a && strips(s.charAt(b - 1), chars)) b--;
        return s.substring(a, b);
    }

    private static boolean strips(char c, String chars) {
        return chars == null ? isPythonSpace(c) : chars.indexOf(c) >= 0;
    }

    /** Python's str.isspace for one BMP character (no whitespace lies outside the BMP). */
    static boolean isPythonSpace(char c) {
        return (c >= '\t' && c <= '\r') || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
    }
}
