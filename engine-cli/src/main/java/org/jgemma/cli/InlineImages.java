package org.jgemma.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jgemma.vision.ImageFormatException;
import org.jgemma.vision.RgbImage;

/**
 * Image paths typed inside a chat message, as {@code ollama run} takes them (Ollama cmd/interactive.go ::
 * extractFileNames, normalizeFilePath, extractFileData): a path that starts with {@code /}, {@code ./}, {@code \} or a
 * drive letter and ends in {@code .jpg .jpeg .png .webp} (any case), possibly with spaces (escaped with a backslash or
 * not) and in quotes, is taken out of the text and its image is attached to the message; the text is then trimmed.
 *
 * <p>Two differences from Ollama, both so a typo never silently sends a message without its picture: a path that does
 * not exist (or is not a readable image) is an {@link InlineImageException} and the message is not sent (Ollama leaves
 * a path it cannot find in the text and sends it); and a path must begin the message or follow a space or a quote, so
 * the {@code //host/a.png} inside a URL is text, not a missing file. Where Ollama's lazy match swallows text before the
 * path ({@code "compare /etc and /tmp/a.png"} matches from {@code /etc}), the shorter candidates that start after a
 * space are tried too.
 */
final class InlineImages {
    private InlineImages() {}

    /** Ollama's pattern (cmd/interactive.go extractFileNames), plus: at the start or after whitespace or a quote. */
    static final Pattern PATH = Pattern.compile(
            "(?<=^|[\\s'\"])(?:[a-zA-Z]:)?(?:\\./|/|\\\\)[\\S\\\\ ]+?\\.(?i:jpg|jpeg|png|webp)\\b");

    /** Where a candidate path may start inside a longer match: after a space, a drive letter or / ./ \ (Ollama's prefix). */
    private static final Pattern START = Pattern.compile("(?:[a-zA-Z]:)?(?:\\./|/|\\\\)");

    /** Ollama's limit on an image file (getImageData: "file size exceeds maximum limit (100MB)"). */
    static final long MAX_FILE_BYTES = 100L << 20;

    /** A message with its image paths taken out: the text, the images and the paths they came from (as normalized). */
    record Message(String text, List<RgbImage> images, List<String> paths) {}

    /** A named image path that cannot be used; the message is one line. */
    static final class InlineImageException extends Exception {
        InlineImageException(String message) {
            super(message);
        }
    }

    /**
     * Whether {@code line} starts with an image path, so a line like {@code /tmp/a.png what is this?} is a message, not a
     * command: its first word (spaces escaped with a backslash belong to it) ends in an image extension, or Ollama's match
     * from the start of the line names a file that exists ({@code /tmp/my pics/a.png ...}). Ollama (cmd/interactive.go)
     * only asks that the match start with the first word, which would take {@code /show info /tmp/a.png} for a path too.
     */
    static boolean startsWithPath(String line) {
        Matcher m = PATH.matcher(line);
        if (!m.find() || m.start() != 0) return false;
        int end = 0;
        while (end < line.length() && !(Character.isWhitespace(line.charAt(end)) && (end == 0 || line.charAt(end - 1) != '\\'))) end++;
        return IMAGE_END.matcher(line.substring(0, end)).find() || exists(normalize(m.group()));
    }

    private static final Pattern IMAGE_END = Pattern.compile("\\.(?i:jpg|jpeg|png|webp)$");

    /** Takes the image paths out of {@code input} and reads their images (in the order typed). */
    static Message extract(String input) throws InlineImageException {
        List<RgbImage> images = new ArrayList<>();
        List<String> paths = new ArrayList<>();
        List<String> remove = new ArrayList<>();
        Matcher m = PATH.matcher(input);
        while (m.find()) {
            String match = m.group();
            String found = null, shortest = match;
            for (String candidate : candidates(match)) {
                shortest = candidate;
                if (exists(normalize(candidate))) {
                    found = candidate;
                    break;
                }
            }
            if (found == null) {
                throw new InlineImageException("no such image file '" + normalize(shortest) + "' (the message was not sent)");
            }
            String path = normalize(found);
            images.add(read(path));
            paths.add(path);
            remove.add(found);
        }
        String text = input;
        for (int i = 0; i < remove.size(); i++) { // as extractFileData: the quoted forms first, then the path as typed
            String typed = remove.get(i), path = paths.get(i);
            for (String q : new String[] {"'", "\""}) {
                text = text.replace(q + path + q, "").replace(q + typed + q, "");
            }
            text = text.replace(typed, "");
        }
        return new Message(text.strip(), images, paths);
    }

    /** The match itself, then each shorter suffix that starts after an unescaped space with a path prefix. */
    private static List<String> candidates(String match) {
        List<String> out = new ArrayList<>();
        out.add(match);
        for (int i = 1; i < match.length(); i++) {
            char prev = match.charAt(i - 1);
            boolean escaped = i >= 2 && match.charAt(i - 2) == '\\';
            if (Character.isWhitespace(prev) && !escaped && START.matcher(match).region(i, match.length()).lookingAt()) {
                out.add(match.substring(i));
            }
        }
        return out;
    }

    /** Ollama's normalizeFilePath: shell escapes undone ({@code \ } {@code \(} ... and {@code '\''}). */
    static String normalize(String fp) {
        StringBuilder s = new StringBuilder(fp.length());
        for (int i = 0; i < fp.length(); i++) {
            if (fp.startsWith("'\\''", i)) { // shell-escaped single quote
                s.append('\'');
                i += 3;
                continue;
            }
            char c = fp.charAt(i);
            if (c == '\\' && i + 1 < fp.length() && " ()[]{}$&;'\\*?~".indexOf(fp.charAt(i + 1)) >= 0) {
                s.append(fp.charAt(++i));
                continue;
            }
            s.append(c);
        }
        return s.toString();
    }

    private static boolean exists(String path) {
        try {
            return Files.exists(Path.of(path));
        } catch (InvalidPathException e) {
            return false;
        }
    }

    private static RgbImage read(String path) throws InlineImageException {
        Path p = Path.of(path);
        try {
            if (!Files.isRegularFile(p)) throw new InlineImageException("'" + path + "' is not a file (the message was not sent)");
            long size = Files.size(p);
            if (size > MAX_FILE_BYTES) {
                throw new InlineImageException("image '" + path + "' has " + size + " bytes, more than the limit of 100 MB (the message was not sent)");
            }
            return RgbImage.read(p);
        } catch (IOException e) {
            throw new InlineImageException("cannot read image '" + path + "': " + e.getMessage() + " (the message was not sent)");
        } catch (ImageFormatException e) {
            throw new InlineImageException(oneLine(e.getMessage()) + " (the message was not sent)");
        }
    }

    static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ");
    }
}
