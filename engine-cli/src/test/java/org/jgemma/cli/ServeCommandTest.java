package org.jgemma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** `jgemma serve` as a user starts it: the answers of the server equal `jgemma run` on the same prompt. */
class ServeCommandTest {
    static Path fixtures() {
        return Path.of(System.getProperty("jgemma.fixtures", "../models/fixtures"));
    }

    @Test
    void serveAnswersWhatRunPrints() throws Exception {
        Path model = fixtures().resolve("tinygqa/gemma3-tinygqa-q4_k_m.gguf");
        StringWriter runOut = new StringWriter();
        int rc = Main.run(new PrintWriter(runOut), new PrintWriter(new StringWriter()), "run", "--backend", "cpu", "--temperature", "0",
                "-n", "12", model.toString(), "Tell me about the sea");
        assertEquals(0, rc);
        String expected = runOut.toString().substring(0, runOut.toString().length() - System.lineSeparator().length());

        StringWriter err = new StringWriter();
        Thread serve = Thread.ofPlatform().start(() -> Main.run(new PrintWriter(new StringWriter()), new PrintWriter(err, true),
                "serve", "--port", "0", "--backend", "cpu", "--no-ollama-store", "--models", model.getParent().toString()));
        try {
            Pattern p = Pattern.compile("listening on (http://127\\.0\\.0\\.1:\\d+)");
            Matcher m = p.matcher("");
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!(m = p.matcher(err.toString())).find() && System.nanoTime() < deadline) Thread.sleep(50);
            assertTrue(m.find(0), err.toString());
            URI base = URI.create(m.group(1));
            assertTrue(err.toString().contains("gemma3-tinygqa-q4_k_m:latest"), err.toString());
            HttpClient http = HttpClient.newHttpClient();
            String body = "{\"model\":\"gemma3-tinygqa-q4_k_m\",\"prompt\":\"Tell me about the sea\",\"stream\":false,"
                    + "\"options\":{\"temperature\":0,\"num_predict\":12}}";
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/api/generate")).timeout(Duration.ofSeconds(120))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode o = new ObjectMapper().readTree(r.body());
            assertEquals(expected, o.path("response").asText());
        } finally {
            serve.interrupt();
            serve.join(10_000);
        }
    }

    @Test
    void helpNamesTheOptions() {
        StringWriter out = new StringWriter();
        assertEquals(0, Main.run(new PrintWriter(out), new PrintWriter(new StringWriter()), "serve", "--help"));
        for (String opt : new String[] {"--host", "--port", "--parallel", "--ctx-size", "--backend", "--keep-alive", "--models", "--api-key"}) {
            assertTrue(out.toString().contains(opt), opt);
        }
    }
}
