package org.jgemma.server;

/**
 * A request that cannot be served: an HTTP status and a message for the client. The Ollama API answers it as
 * {@code {"error": message}}, the OpenAI API as {@code {"error": {"message", "type", "param", "code"}}}.
 */
final class ApiException extends RuntimeException {
    private final int status;
    private final String code; // OpenAI's error code (model_not_found, invalid_api_key, ...), or null

    ApiException(int status, String message) {
        this(status, message, null);
    }

    ApiException(int status, String message, String code) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
    }

    int status() { return status; }

    String code() { return code; }

    static ApiException badRequest(String message) { return new ApiException(400, message); }

    static ApiException notFound(String model) {
        return new ApiException(404, "model '" + model + "' not found", "model_not_found");
    }

    /** A feature of the Ollama / OpenAI API that jgemma does not implement yet: named, never silently ignored. */
    static ApiException unsupported(String feature) {
        return new ApiException(400, feature + " is not supported by jgemma serve yet", "unsupported_feature");
    }

    /** OpenAI's error type for a status. */
    String openAiType() {
        return switch (status) {
            case 401 -> "authentication_error";
            case 404 -> "invalid_request_error";
            case 429, 503 -> "server_error";
            default -> status >= 500 ? "server_error" : "invalid_request_error";
        };
    }
}
