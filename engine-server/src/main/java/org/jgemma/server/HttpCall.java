package org.jgemma.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * One HTTP exchange: the request body read within a size limit, JSON answers, and streamed answers (Ollama's
 * NDJSON, OpenAI's server-sent events) flushed a piece at a time so that a client that went away is noticed at the
 * next write ({@link IOException}), which cancels its generation.
 */
final class HttpCall {
    private final HttpExchange ex;
    private final long maxBody;
    private final boolean openAi;
    private OutputStream stream; // open once a streamed answer has started
    private boolean answered;

    HttpCall(HttpExchange ex, long maxBody) {
        this.ex = ex;
        this.maxBody = maxBody;
        this.openAi = ex.getRequestURI().getRawPath().startsWith("/v1/");
    }

    String method() { return ex.getRequestMethod(); }

    String path() { return ex.getRequestURI().getRawPath(); }

    String header(String name) { return ex.getRequestHeaders().getFirst(name); }

    boolean openAi() { return openAi; }

    /** Sets a response header (before the answer starts). */
    void responseHeader(String name, String value) {
        ex.getResponseHeaders().set(name, value);
    }

    /** An answer without a body (a CORS preflight's 204). */
    void sendEmpty(int status) throws IOException {
        answered = true;
        ex.sendResponseHeaders(status, -1);
    }

    boolean answered() { return answered; }

    /** The body, at most the configured size (413 beyond it, told by Content-Length or found while reading). */
    byte[] body() throws IOException {
        String cl = header("Content-Length");
        if (cl != null) {
            long n;
            try {
                n = Long.parseLong(cl.strip());
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("malformed Content-Length '" + cl + "'");
            }
            if (n > maxBody) throw tooLarge();
        }
        InputStream in = ex.getRequestBody();
        byte[] buf = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBody + 1));
        if (buf.length > maxBody) throw tooLarge();
        return buf;
    }

    ObjectNode jsonBody() throws IOException {
        return Json.parseObject(body());
    }

    private ApiException tooLarge() {
        return new ApiException(413, "request body larger than " + maxBody + " bytes (--max-body)");
    }

    void sendJson(int status, JsonNode body) throws IOException {
        send(status, "application/json; charset=utf-8", Json.bytes(body));
    }

    void sendText(int status, String contentType, String text) throws IOException {
        send(status, contentType, text.getBytes(StandardCharsets.UTF_8));
    }

    void send(int status, String contentType, byte[] body) throws IOException {
        answered = true;
        ex.getResponseHeaders().set("Content-Type", contentType);
        boolean head = method().equals("HEAD");
        ex.sendResponseHeaders(status, head ? -1 : (body.length == 0 ? -1 : body.length));
        if (!head && body.length > 0) {
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        }
    }

    /** The error as this API shapes it (Ollama: {"error": "..."}; OpenAI: an error object), or as a last stream line. */
    void sendError(ApiException e) throws IOException {
        ObjectNode body = Json.object();
        if (openAi) {
            ObjectNode err = body.putObject("error");
            err.put("message", e.getMessage());
            err.put("type", e.openAiType());
            err.putNull("param");
            if (e.code() != null) err.put("code", e.code()); else err.putNull("code");
        } else {
            body.put("error", e.getMessage());
        }
        if (stream != null) { // headers went out already: the error is the stream's last event
            if (openAi) writeEvent(body); else writeLine(body);
            return;
        }
        if (e.status() == 401) ex.getResponseHeaders().set("WWW-Authenticate", "Bearer");
        sendJson(e.status(), body);
    }

    /** Starts a streamed 200 answer: {@code application/x-ndjson} for Ollama, {@code text/event-stream} for OpenAI. */
    void startStream() throws IOException {
        answered = true;
        ex.getResponseHeaders().set("Content-Type", openAi ? "text/event-stream; charset=utf-8" : "application/x-ndjson");
        if (openAi) ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0); // chunked
        stream = ex.getResponseBody();
    }

    boolean streaming() { return stream != null; }

    /** One NDJSON line, flushed. */
    void writeLine(JsonNode n) throws IOException {
        byte[] b = Json.bytes(n);
        stream.write(b);
        stream.write('\n');
        stream.flush();
    }

    /** One server-sent event {@code data: <json>} and its blank line, flushed. */
    void writeEvent(JsonNode n) throws IOException {
        writeEventData(Json.bytes(n));
    }

    void writeEventData(byte[] data) throws IOException {
        stream.write("data: ".getBytes(StandardCharsets.US_ASCII));
        stream.write(data);
        stream.write("\n\n".getBytes(StandardCharsets.US_ASCII));
        stream.flush();
    }

    /** Ends the exchange (the chunked stream's last chunk, or just the exchange). */
    void close() {
        try {
            if (stream != null) stream.close();
        } catch (IOException ignored) {
            // the client went away; nothing more to tell it
        } finally {
            ex.close();
        }
    }
}
