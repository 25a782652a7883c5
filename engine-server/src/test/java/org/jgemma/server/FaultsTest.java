package org.jgemma.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bad input and bad clients: 2000 malformed or hostile requests each get a 4xx JSON error and the server keeps
 * serving; a 100 MB body is refused at its header; a client that disconnects mid-stream cancels its generation and
 * frees its slot; a client that stops reading holds only its own slot. Nothing is logged as an internal error.
 */
class FaultsTest {
    static TestServer ts;
    static final ByteArrayOutputStream log = new ByteArrayOutputStream();
    static PrintStream realErr;

    @BeforeAll
    static void start() throws Exception {
        realErr = System.err;
        System.setErr(new PrintStream(new TeeStream(realErr, log), true, StandardCharsets.UTF_8));
        ts = new TestServer(ServerConfig.defaults().withCachePrompt(false).withParallel(2).withQueue(4).withMaxBodyBytes(1 << 20));
    }

    @AfterAll
    static void stop() throws Exception {
        ts.close();
        System.setErr(realErr);
    }

    /** The hostile bodies, by endpoint; each must be refused with a 4xx JSON error. */
    static List<String[]> hostile() {
        String m = TestServer.GQA;
        String deep = "[".repeat(5000) + "]".repeat(5000);
        String longPrompt = "the sea ".repeat(3000); // more tokens than the 4096-token context
        List<String[]> c = new ArrayList<>();
        for (String path : List.of("/api/generate", "/api/chat", "/v1/chat/completions", "/v1/completions")) {
            c.add(new String[] {path, "{\"model\":"});
            c.add(new String[] {path, "{\"model\": \"" + m + "\", }"});
            c.add(new String[] {path, "not json at all"});
            c.add(new String[] {path, ""});
            c.add(new String[] {path, "[]"});
            c.add(new String[] {path, "null"});
            c.add(new String[] {path, "\"a string\""});
            c.add(new String[] {path, deep});
            c.add(new String[] {path, "{\"model\":" + deep + "}"});
            c.add(new String[] {path, "{\"model\":12}"});
            c.add(new String[] {path, "{\"model\":\"../../etc/passwd\",\"prompt\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"});
            c.add(new String[] {path, "{\"model\":\"/etc/passwd\",\"prompt\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"});
            c.add(new String[] {path, "{\"model\":\"" + "a".repeat(5000) + "\"}"});
            c.add(new String[] {path, "{\"model\":\"nope\\u0000x\"}"});
            c.add(new String[] {path, "{\"model\":\"unknown-model:7b\",\"prompt\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"});
            c.add(new String[] {path, "{\"model\":\"" + m + "\",\"stream\":\"yes\",\"prompt\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"});
            c.add(new String[] {path, "{\"model\":\"" + m + "\",\"prompt\":\"" + longPrompt + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + longPrompt + "\"}]}"});
            c.add(new String[] {path, "{\"model\":\"" + m + "\",\"prompt\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"keep_alive\":\"forever-ish\"}"});
        }
        String[] opts = {"{\"num_predict\":-5}", "{\"num_predict\":1e400}", "{\"num_predict\":99999999999999999999999}",
                "{\"temperature\":1e308}", "{\"temperature\":-1}", "{\"temperature\":\"hot\"}", "{\"top_p\":7}", "{\"top_k\":-3}",
                "{\"seed\":1.5}", "{\"num_ctx\":0}", "{\"repeat_last_n\":100000000}", "{\"stop\":[1,2]}", "{\"stop\":[\"\"]}",
                "{\"no_such_option\":1}", "\"options as a string\"", "[1,2]", "{\"min_p\":-0.1}", "{\"repeat_penalty\":0}"};
        for (String o : opts) {
            c.add(new String[] {"/api/generate", "{\"model\":\"" + m + "\",\"prompt\":\"x\",\"options\":" + o + "}"});
            c.add(new String[] {"/api/chat", "{\"model\":\"" + m + "\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"options\":" + o + "}"});
        }
        String chat = "{\"model\":\"" + m + "\",\"messages\":";
        for (String msgs : List.of("{}", "[1]", "[{\"content\":\"x\"}]", "[{\"role\":\"wizard\",\"content\":\"x\"}]",
                "[{\"role\":\"user\",\"content\":{\"a\":1}}]", "[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"user\",\"content\":\"y\"}]")) {
            c.add(new String[] {"/api/chat", chat + msgs + "}"});
            c.add(new String[] {"/v1/chat/completions", chat + msgs + "}"});
        }
        for (String v : List.of("\"max_tokens\":-1", "\"max_tokens\":0", "\"temperature\":3", "\"top_p\":-1", "\"n\":3",
                "\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]", "\"frequency_penalty\":9", "\"seed\":\"x\"", "\"stream_options\":5")) {
            c.add(new String[] {"/v1/chat/completions", chat + "[{\"role\":\"user\",\"content\":\"x\"}]," + v + "}"});
        }
        c.add(new String[] {"/api/show", "{}"});
        c.add(new String[] {"/api/show", "{\"model\":\"../x\"}"});
        c.add(new String[] {"/api/show", "{\"model\":[]}"});
        c.add(new String[] {"/api/tags", "{}"}); // wrong method
        c.add(new String[] {"/api/../../etc/passwd", "{}"});
        c.add(new String[] {"/v1/completions", "{\"model\":\"" + m + "\",\"prompt\":[\"a\",\"b\"]}"});
        c.add(new String[] {"/v1/completions", "{\"model\":\"" + m + "\",\"prompt\":\"\"}"});
        return c;
    }

    @Test
    void twoThousandHostileRequestsEachGetA4xxJsonError() throws Exception {
        List<String[]> cases = hostile();
        int total = 2000;
        long t0 = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < total; i++) {
                String[] c = cases.get(i % cases.size());
                results.add(pool.submit(() -> {
                    String what = c[0] + " " + (c[1].length() > 120 ? c[1].substring(0, 120) + "..." : c[1]);
                    HttpResponse<String> r;
                    try {
                        r = ts.http.send(HttpRequest.newBuilder(ts.uri("/").resolve(c[0].replace("/../../", "/%2E%2E/%2E%2E/")))
                                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(c[1])).build(), HttpResponse.BodyHandlers.ofString());
                    } catch (IOException e) { // say which request lost its answer, among all that did
                        return what + " -> " + e;
                    }
                    if (r.statusCode() < 400 || r.statusCode() >= 500) return what + " -> " + r.statusCode() + " " + r.body();
                    if (!r.headers().firstValue("Content-Type").orElse("").startsWith("application/json")) return what + " -> not JSON";
                    JsonNode e = TestServer.json(r.body()).path("error");
                    if (e.isMissingNode() || (!e.isTextual() && !e.path("message").isTextual())) return what + " -> " + r.body();
                    return null;
                }));
            }
            List<String> bad = new ArrayList<>();
            for (Future<String> f : results) if (f.get() != null) bad.add(f.get());
            assertEquals(List.of(), bad.stream().distinct().toList());
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        realErr.printf("FaultsTest: %d hostile requests (%d kinds) answered 4xx JSON in %.1f s%n", total, cases.size(), seconds);
        assertTrue(seconds < 120, "bounded time");
        assertServing();
        assertFalse(log.toString(StandardCharsets.UTF_8).contains("internal error"), log.toString(StandardCharsets.UTF_8));
    }

    @Test
    void hundredMegabyteBodyIsRefusedAtItsHeader() throws Exception {
        try (Socket s = new Socket("127.0.0.1", ts.server.port())) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                    + (100L << 20) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[64 << 10];
            java.util.Arrays.fill(chunk, (byte) 'a');
            try {
                for (int i = 0; i < 16; i++) out.write(chunk); // the server answers without reading it all
            } catch (IOException closed) {
                // the server may close after answering
            }
            String resp = readAll(s.getInputStream());
            assertTrue(resp.startsWith("HTTP/1.1 413"), resp);
            assertTrue(resp.contains("\"error\"") && resp.contains("larger than"), resp);
        }
        // chunked, no length: refused once the limit is passed
        try (Socket s = new Socket("127.0.0.1", ts.server.port())) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write("POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[64 << 10];
            try {
                for (int i = 0; i < 40; i++) {
                    out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(chunk);
                    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                }
            } catch (IOException closed) {
                // fine
            }
            String resp = readAll(s.getInputStream());
            assertTrue(resp.startsWith("HTTP/1.1 413"), resp);
        }
        assertServing();
    }

    @Test
    void disconnectMidStreamCancelsTheGeneration() throws Exception {
        long before = ts.server.cancelledGenerations();
        try (Socket s = new Socket("127.0.0.1", ts.server.port())) {
            s.setSoTimeout(60_000);
            String body = "{\"model\":\"" + TestServer.GQA + "\",\"prompt\":\"Tell me a long story\",\"options\":{\"num_predict\":3000}}";
            s.getOutputStream().write(("POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            InputStream in = s.getInputStream();
            int lines = 0;
            while (lines < 4) if (in.read() == '\n') lines++; // the headers and the first NDJSON lines
        } // closed mid-stream
        long deadline = System.nanoTime() + 20_000_000_000L;
        while ((ts.server.cancelledGenerations() == before || ts.server.runningGenerations() > 0) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(before + 1, ts.server.cancelledGenerations(), "the generation was cancelled");
        assertEquals(0, ts.server.runningGenerations(), "its slot is free");
        assertServing();
    }

    @Test
    void clientThatStopsReadingHoldsOnlyItsSlot() throws Exception {
        try (Socket s = new Socket("127.0.0.1", ts.server.port())) {
            s.setReceiveBufferSize(4096);
            String body = "{\"model\":\"" + TestServer.GQA + "\",\"prompt\":\"Tell me a long story\",\"options\":{\"num_predict\":400}}";
            s.getOutputStream().write(("POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                    + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            Thread.sleep(500); // it never reads; the others are still served meanwhile
            assertServing();
        }
        assertServing();
    }

    private static void assertServing() throws Exception {
        HttpResponse<String> r = ts.post("/api/generate", "{\"model\":\"" + TestServer.GQA
                + "\",\"prompt\":\"Hello\",\"stream\":false,\"options\":{\"temperature\":0,\"num_predict\":3}}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(TestServer.expectedChat(TestServer.GQA, null, "Hello", 3), TestServer.json(r.body()).path("response").asText());
    }

    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            for (int n; (n = in.read(buf)) > 0; ) {
                b.write(buf, 0, n);
                if (b.toString(StandardCharsets.UTF_8).contains("}")) break;
            }
        } catch (IOException reset) {
            // the server closed after answering
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    /** Copies stderr to the console and to a buffer the test inspects. */
    static final class TeeStream extends OutputStream {
        private final OutputStream a, b;

        TeeStream(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public synchronized void write(int x) throws IOException {
            a.write(x);
            b.write(x);
        }

        @Override
        public synchronized void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
