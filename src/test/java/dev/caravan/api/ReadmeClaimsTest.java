package dev.caravan.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.openai.Json;
import dev.caravan.support.GatewayInstance;
import org.apache.camel.Route;
import org.apache.camel.component.platform.http.PlatformHttpEndpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the README promises in so many words, checked against a running gateway. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReadmeClaimsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    GatewayInstance gateway;

    @BeforeAll
    void start() {
        gateway = GatewayInstance.builder().property("camel.server.max-body-size", "65536").start();
    }

    @AfterAll
    void stop() {
        gateway.close();
    }

    private HttpResponse<String> send(HttpRequest.Builder request) {
        return gateway.send(request.timeout(TIMEOUT).build());
    }

    /** "Every endpoint also answers without the /v1 prefix (/chat/completions, /models, ...)." */
    @Test
    void everyV1EndpointAlsoAnswersWithoutThePrefix() {
        Set<String> paths = new TreeSet<>();
        for (Route route : gateway.camel().getRoutes()) {
            if (route.getEndpoint() instanceof PlatformHttpEndpoint http) {
                paths.add(http.getPath());
            }
        }
        Set<String> missing = new TreeSet<>();
        for (String path : paths) {
            if (path.startsWith("/v1/") && !paths.contains(path.substring(3))) {
                missing.add(path);
            }
        }
        assertTrue(missing.isEmpty(), "served only with /v1: " + missing + " (all: " + paths + ")");

        assertEquals(200, send(HttpRequest.newBuilder(gateway.uri("/lanes")).GET()).statusCode());
        HttpResponse<String> ndjson = send(HttpRequest.newBuilder(gateway.uri("/chat/completions/stream"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"caravan-echo\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")));
        assertEquals(200, ndjson.statusCode(), ndjson.body());
        assertTrue(ndjson.body().lines().allMatch(line -> line.startsWith("{")), ndjson.body());
    }

    /** "Every reply carries x-request-id (yours, or a new one)." */
    @Test
    void everyReplyCarriesARequestId() throws Exception {
        for (String path : new String[] {"/health", "/v1/health", "/metrics", "/", "/v1", "/v1/models", "/models",
                "/v1/models/caravan-echo", "/v1/lanes", "/tasks/dlq", "/no/such/url", "/v1/models/no-such-model"}) {
            HttpResponse<String> reply = send(HttpRequest.newBuilder(gateway.uri(path)).GET());
            assertTrue(reply.headers().firstValue("x-request-id").orElse("").startsWith("req_"),
                    "GET " + path + " → " + reply.statusCode() + " " + reply.headers().map());
        }
        HttpResponse<String> echoed = send(HttpRequest.newBuilder(gateway.uri("/health"))
                .header("x-request-id", "mine-123").GET());
        assertEquals("mine-123", echoed.headers().firstValue("x-request-id").orElse(""));

        HttpResponse<String> wrongMethod = send(HttpRequest.newBuilder(gateway.uri("/v1/models"))
                .DELETE());
        assertEquals(405, wrongMethod.statusCode(), wrongMethod.body());
        assertTrue(wrongMethod.headers().firstValue("x-request-id").orElse("").startsWith("req_"),
                wrongMethod.headers().map().toString());

        String head = tooLarge(gateway.port());
        assertTrue(head.startsWith("HTTP/1.1 413"), head);
        assertTrue(head.toLowerCase(Locale.ROOT).contains("\r\nx-request-id: req_"), head);
    }

    /** The head of the reply to a POST announcing a body over MAX_BODY_BYTES (the body is never sent). */
    private static String tooLarge(int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout((int) TIMEOUT.toMillis());
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 10000000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            StringBuilder head = new StringBuilder();
            int b;
            while ((b = in.read()) >= 0 && head.indexOf("\r\n\r\n") < 0) {
                head.append((char) b);
            }
            return head.toString();
        }
    }

    /** The README's fallback example, as written: it loads, and with its GPU box down the cloud model answers. */
    @Test
    void theFallbackExampleLoadsAndFallsBack() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int section = readme.indexOf("A model's `fallbacks` are tried in order");
        int start = readme.indexOf("```yaml\n", section) + "```yaml\n".length();
        String yaml = readme.substring(start, readme.indexOf("```", start));
        assertTrue(section > 0 && yaml.contains("fallbacks:"), yaml);
        try (UpstreamEmulator cloud = UpstreamEmulator.start();
             GatewayInstance example = GatewayInstance.builder()
                     .config(yaml.replace("http://127.0.0.1:11434", "http://127.0.0.1:" + GatewayInstance.freePort())
                             .replace("https://openrouter.ai/api", cloud.baseUrl()))
                     .property("gateway.retry.base-delay-ms", "1").property("gateway.retry.max-delay-ms", "5")
                     .start()) {
            HttpResponse<String> reply = example.send(HttpRequest.newBuilder(example.uri("/v1/chat/completions"))
                    .timeout(TIMEOUT).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build());
            assertEquals(200, reply.statusCode(), reply.body());
            assertEquals("cloud", reply.headers().firstValue("x-caravan-backend").orElse(""));
            JsonNode body = Json.MAPPER.readTree(reply.body());
            assertEquals("cloud/openai/gpt-4o-mini", body.get("model").asText(), reply.body());
            assertEquals("openai/gpt-4o-mini", cloud.lastRequestBody().getString("model"));
        }
    }
}
