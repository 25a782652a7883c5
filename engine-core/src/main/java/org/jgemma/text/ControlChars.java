package org.jgemma.text;

/**
 * Makes text from a model file or a request safe to print on one terminal line: control characters (C0, DEL, C1,
 * including ESC, so no ANSI/OSC sequence reaches the terminal), line and paragraph separators and unpaired surrogates
 * become visible escapes ({@code \n}, {@code \x1b}, {@code \u2028}); everything else is kept.
 */
public final class ControlChars {
    private ControlChars() {}

    /** {@code s} with every control character escaped; {@code null} gives {@code "null"}. */
    public static String escape(String s) {
        if (s == null) return "null";
        int i = 0;
        while (i < s.length() && !needsEscape(s, i)) i++;
        if (i == s.length()) return s;
        StringBuilder sb = new StringBuilder(s.length() + 16).append(s, 0, i);
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!needsEscape(s, i)) {
                sb.append(c);
                continue;
            }
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> sb.append(c < 0x100 ? String.format("\\x%02x", (int) c) : String.format("\\u%04x", (int) c));
            }
        }
        return sb.toString();
    }

    private static boolean needsEscape(String s, int i) {
        char c = s.charAt(i);
        if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c == '\u2028' || c == '\u2029') return true;
        if (Character.isHighSurrogate(c)) return i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1));
        if (Character.isLowSurrogate(c)) return i == 0 || !Character.isHighSurrogate(s.charAt(i - 1));
        return false;
    }
}
