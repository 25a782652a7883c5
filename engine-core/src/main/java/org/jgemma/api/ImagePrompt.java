package org.jgemma.api;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.jgemma.chat.ChatMessage;
import org.jgemma.chat.ChatTemplate;
import org.jgemma.tokenizer.Tokenizer;
import org.jgemma.vision.RgbImage;

/**
 * The token sequence of a conversation with images, as llama-mtmd-cli builds it (tools/mtmd/mtmd.cpp :: mtmd_tokenize):
 * the rendered chat is cut in front of each image message's content, the text pieces are tokenized separately, and each
 * image becomes {@code <start_of_image>}, its soft tokens, {@code <end_of_image>}, with no newlines added.
 *
 * <p>An image's soft tokens are negative placeholder ids derived from the image's pixels (token j of an image with key K:
 * {@code -2 - ((K + j) & 0x3FFFFFFF)}), so the session's prefix matching reuses the KV cache of an image that was
 * evaluated before and never mistakes one image for another; the first placeholder maps to the image's embeddings.
 */
final class ImagePrompt {
    private ImagePrompt() {}

    static boolean hasImages(List<ChatMessage> conversation) {
        for (ChatMessage m : conversation) if (m.hasImages()) return true;
        return false;
    }

    /**
     * The ids of {@code conversation} with its images; fills {@code images} (first placeholder id to embeddings) and uses
     * {@code cache} so an image (by identity: one message's) is encoded by the vision tower once.
     */
    static int[] encode(Model model, List<ChatMessage> conversation, boolean parseSpecialInContent,
                        Map<RgbImage, float[][]> cache, Map<Integer, float[][]> images) {
        if (!(model.codec() instanceof TokenizerCodec codec)) throw new IllegalStateException("images need a model opened from a GGUF file");
        Tokenizer tok = codec.tokenizer();
        int boi = tok.tokenId("<start_of_image>"), eoi = tok.tokenId("<end_of_image>");
        if (boi < 0 || eoi < 0) {
            throw new IllegalArgumentException("the model's vocabulary has no <start_of_image> / <end_of_image> token: it cannot take images");
        }
        ChatTemplate.Rendered r = codec.template().renderWithSpans(conversation, true);
        if (!r.located()) {
            throw new org.jgemma.chat.ChatTemplateException("the chat template's output could not be split into markup and message "
                    + "contents, so the images cannot be placed");
        }
        String text = r.text();
        List<Integer> cuts = new ArrayList<>();
        List<List<RgbImage>> cutImages = new ArrayList<>();
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (ChatTemplate.ContentSpan span : r.contentSpans()) {
            ChatMessage m = conversation.get(span.message());
            if (m.hasImages() && seen.add(span.message())) {
                cuts.add(span.start());
                cutImages.add(m.images());
            }
        }
        int bos = tok.bosId();
        boolean addBos = !(bos >= 0 && text.startsWith(tok.tokenText(bos)));
        List<int[]> parts = new ArrayList<>();
        int from = 0;
        for (int c = 0; c <= cuts.size(); c++) {
            int to = c < cuts.size() ? cuts.get(c) : text.length();
            String seg = text.substring(from, to);
            if (!seg.isEmpty() || (c == 0 && addBos)) parts.add(tokenize(tok, seg, c == 0 && addBos, r.ranges(), from, to, parseSpecialInContent));
            if (c < cuts.size()) {
                for (RgbImage img : cutImages.get(c)) {
                    float[][] e = cache.get(img);
                    if (e == null) {
                        e = model.encodeImage(img);
                        cache.put(img, e);
                    }
                    int[] chunk = new int[e.length + 2];
                    chunk[0] = boi;
                    long key = key(img);
                    for (int j = 0; j < e.length; j++) chunk[1 + j] = -2 - (int) ((key + j) & 0x3FFFFFFF);
                    chunk[e.length + 1] = eoi;
                    images.put(chunk[1], e);
                    parts.add(chunk);
                }
            }
            from = to;
        }
        int n = 0;
        for (int[] p : parts) n += p.length;
        int[] ids = new int[n];
        int o = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, ids, o, p.length);
            o += p.length;
        }
        return ids;
    }

    /** Text [from, to) of the rendered chat, special tokens parsed only outside the contents (unless asked to). */
    private static int[] tokenize(Tokenizer tok, String seg, boolean addBos, List<int[]> contents, int from, int to, boolean parseAll) {
        if (parseAll) return tok.encode(seg, addBos, true);
        List<int[]> shifted = new ArrayList<>();
        for (int[] c : contents) {
            int a = Math.max(c[0], from), b = Math.min(c[1], to);
            if (a < b) shifted.add(new int[] {a - from, b - from});
        }
        return tok.encode(seg, addBos, shifted);
    }

    /** A 64-bit key of the image's size and pixels. */
    static long key(RgbImage img) {
        long h = 0xcbf29ce484222325L ^ ((long) img.width() << 32 | img.height());
        for (byte b : img.rgb()) h = (h ^ (b & 0xFF)) * 0x100000001b3L; // FNV-1a
        return h;
    }

    static Map<RgbImage, float[][]> newCache() {
        return new IdentityHashMap<>();
    }
}
