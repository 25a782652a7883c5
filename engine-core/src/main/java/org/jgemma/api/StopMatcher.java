package org.jgemma.api;

import java.util.List;

/**
 * Finds stop strings in streamed text. Text that could still be the start of a stop string is held back; when a
 * stop string completes, only the text before it is released and {@link #stopped()} turns true.
 */
final class StopMatcher {
    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    StopMatcher(List<String> stops) {
        this.stops = stops;
    }

    boolean stopped() { return stopped; }

    /** Adds text; returns what can be released now. */
    String push(String text) {
        if (stopped) return "";
        if (stops.isEmpty()) return text;
        held.append(text);
        int cut = -1;
        for (String s : stops) {
            int i = held.indexOf(s);
            if (i >= 0 && (cut < 0 || i < cut)) cut = i;
        }
        if (cut >= 0) {
            stopped = true;
            String out = held.substring(0, cut);
            held.setLength(0);
            return out;
        }
        int keep = 0; // longest suffix of held that is a proper prefix of some stop string
        for (String s : stops) {
            for (int len = Math.min(s.length() - 1, held.length()); len > keep; len--) {
                if (endsWith(held, s, len)) {
                    keep = len;
                    break;
                }
            }
        }
        String out = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return out;
    }

    /** Whether {@code sb} ends with the first {@code len} characters of {@code s}. */
    private static boolean endsWith(StringBuilder sb, String s, int len) {
        int off = sb.length() - len;
        for (int i = 0; i < len; i++) if (sb.charAt(off + i) != s.charAt(i)) return false;
        return true;
    }

    /** Releases what is held (the generation ended without a stop string). */
    String flush() {
        String out = held.toString();
        held.setLength(0);
        return out;
    }
}
