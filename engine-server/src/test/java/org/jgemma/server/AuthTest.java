package org.jgemma.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** With --api-key, every endpoint but / (and the static /ui page) refuses a request without the bearer token. */
class AuthTest {
    @Test
    void everyEndpointButRootNeedsTheKey() throws Exception {
        try (TestServer ts = new TestServer(ServerConfig.defaults().withCachePrompt(false).withApiKey("s3cret").withParallel(1))) {
            assertEquals(200, ts.get("/").statusCode());
            List<String[]> endpoints = List.of(new String[] {"GET", "/api/tags"}, new String[] {"GET", "/api/ps"},
                    new String[] {"GET", "/api/version"}, new String[] {"POST", "/api/show"}, new String[] {"POST", "/api/generate"},
                    new String[] {"POST", "/api/chat"}, new String[] {"POST", "/api/pull"}, new String[] {"GET", "/v1/models"},
                    new String[] {"POST", "/v1/chat/completions"}, new String[] {"POST", "/v1/completions"},
                    new String[] {"GET", "/v1/models/" + TestServer.GQA}, new String[] {"GET", "/api/nothing"});
            String body = "{\"model\":\"" + TestServer.GQA + "\",\"prompt\":\"hi\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
            for (String[] e : endpoints) {
                for (String auth : new String[] {null, "Bearer wrong", "Basic czNjcmV0", "Bearer s3cret2"}) {
                    HttpRequest.Builder b = HttpRequest.newBuilder(ts.uri(e[1])).timeout(Duration.ofSeconds(30))
                            .method(e[0], e[0].equals("GET") ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
                    if (auth != null) b.header("Authorization", auth);
                    HttpResponse<String> r = ts.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(401, r.statusCode(), e[0] + " " + e[1] + " with " + auth);
                    assertTrue(r.body().contains("unauthorized"), r.body());
                }
            }
            HttpResponse<String> ok = ts.http.send(HttpRequest.newBuilder(ts.uri("/api/tags")).header("Authorization", "Bearer s3cret").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ok.statusCode());
            HttpResponse<String> openAi = ts.http.send(HttpRequest.newBuilder(ts.uri("/v1/models")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("invalid_api_key", TestServer.json(openAi.body()).path("error").path("code").asText());
        }
    }
}
