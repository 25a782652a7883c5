package org.jgemma.server;

import java.util.Base64;
import org.jgemma.vision.ImageFormatException;
import org.jgemma.vision.RgbImage;

/** Images in requests: base64 (Ollama's {@code images}) and {@code data:} URLs (OpenAI's {@code image_url}); errors are 400s naming the field. */
final class ImageInputs {
    private ImageInputs() {}

    static RgbImage decodeBase64(String b64, String field) {
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(b64.replaceAll("\\s", "")); // strict, as Go's encoding/json []byte; line breaks allowed
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("field '" + field + "' is not base64: " + e.getMessage());
        }
        try {
            return RgbImage.decode(bytes);
        } catch (ImageFormatException e) {
            throw ApiException.badRequest("field '" + field + "': " + e.getMessage());
        }
    }

    /** A {@code data:[mime];base64,...} URL; remote URLs are refused (the server fetches nothing on a client's behalf). */
    static RgbImage decodeDataUrl(String url, String field) {
        if (!url.regionMatches(true, 0, "data:", 0, 5)) {
            throw ApiException.unsupported("image URLs other than data: URLs in " + field + " (the server does not fetch remote images)");
        }
        int comma = url.indexOf(',');
        if (comma < 0 || !url.substring(0, comma).toLowerCase(java.util.Locale.ROOT).endsWith(";base64")) {
            throw ApiException.badRequest("field '" + field + "': a data: URL must be base64 (data:image/png;base64,...)");
        }
        return decodeBase64(url.substring(comma + 1), field);
    }
}
