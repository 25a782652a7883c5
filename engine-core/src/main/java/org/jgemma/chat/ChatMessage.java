package org.jgemma.chat;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jgemma.vision.RgbImage;

/**
 * One turn of a conversation: a role ({@code system}, {@code user}, {@code assistant}), its text, and the images it
 * shows (decoded when the message is made, so a bad image file fails here with one
 * {@link org.jgemma.vision.ImageFormatException} naming it). A message's images go in front of its text, each as
 * {@code <start_of_image>}, its soft tokens, {@code <end_of_image>} (what llama-mtmd-cli does with its default marker).
 */
public record ChatMessage(String role, String content, List<RgbImage> images) {
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        images = images == null ? List.of() : List.copyOf(images);
    }

    public ChatMessage(String role, String content) {
        this(role, content, List.of());
    }

    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }

    /** A user message showing image files (PNG, JPEG, BMP, GIF). */
    public static ChatMessage user(String content, Path... images) {
        List<RgbImage> l = new ArrayList<>();
        for (Path p : images) l.add(RgbImage.read(p));
        return new ChatMessage("user", content, l);
    }

    /** A user message showing images given as file bytes (e.g. base64-decoded from a request). */
    public static ChatMessage user(String content, byte[]... images) {
        List<RgbImage> l = new ArrayList<>();
        for (byte[] b : images) l.add(RgbImage.decode(b));
        return new ChatMessage("user", content, l);
    }

    /** A user message showing in-memory images. */
    public static ChatMessage user(String content, BufferedImage... images) {
        List<RgbImage> l = new ArrayList<>();
        for (BufferedImage b : images) l.add(RgbImage.of(b));
        return new ChatMessage("user", content, l);
    }

    /** This message without its images. */
    public ChatMessage withoutImages() {
        return images.isEmpty() ? this : new ChatMessage(role, content);
    }

    public boolean hasImages() {
        return !images.isEmpty();
    }
}
