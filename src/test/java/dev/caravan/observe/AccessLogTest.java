package dev.caravan.observe;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.support.Await;
import dev.caravan.support.Calls;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.LogCapture;
import dev.caravan.support.RawHttp;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One access line per model request (issue 8 item 5), on logger dev.caravan.access: key name never the key, the
 * model asked and the one that served, fallbacks, status and error, format, tokens, times; JSON with
 * gateway.log-format=json. And no secret in any log line: client keys, the upstream's key, Authorization values.
 */
class AccessLogTest {

    private static final String ALICE_KEY = "sk-alice-0123456789abcdef";
    private static final String UPSTREAM_KEY = "sk-upstream-fedcba9876543210";
    private static final String WRONG_KEY = "sk-wrong-1111222233334444";

    static UpstreamEmulator upstream;
    static GatewayInstance gateway;

    @RegisterExtension
    final LogCapture logs = LogCapture.perTest();

    @BeforeAll
    static void start() {
        // off by default (ACCESS_LOG_LEVEL): on for this class, as ACCESS_LOG_LEVEL=INFO turns it on
        Configurator.setLevel("dev.caravan.access", Level.INFO);
        upstream = UpstreamEmulator.start();
        gateway = GatewayInstance.builder().config("""
                backends:
                  up: {type: openai, url: "%s", api-key: "%s"}
                  down: {type: openai, url: "http://127.0.0.1:%d"}
                models:
                  emu: {backend: up, upstream-model: emu-upstream}
                  gone: {backend: down, fallbacks: [emu]}
                keys:
                  - {key: "%s", name: alice}
                """.formatted(upstream.baseUrl(), UPSTREAM_KEY, GatewayInstance.freePort(), ALICE_KEY))
                .property("gateway.retry.max-attempts", "1")
                .property("gateway.log-format", "json")
                .start();
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.close();
        Configurator.setLevel("dev.caravan.access", Level.WARN);
    }

    @Test
    void oneJsonLinePerRequestWithWhatServedIt() throws Exception {
        HttpResponse<String> ok = Calls.chat(gateway, "gone", "Authorization", "Bearer " + ALICE_KEY,
                "x-request-id", "acc-1");
        assertEquals(200, ok.statusCode(), ok.body());
        JsonNode line = access("acc-1");
        assertEquals("alice", line.path("key").asText());
        assertEquals("gone", line.path("model_asked").asText());
        assertEquals("emu", line.path("model").asText());
        assertEquals("emu-upstream", line.path("upstream_model").asText());
        assertEquals("up", line.path("backend").asText());
        assertEquals("[\"gone@down\"]", line.path("fallbacks").toString());
        assertEquals(200, line.path("status").asInt());
        assertEquals("json", line.path("format").asText());
        assertTrue(line.path("tokens_out").asInt() > 0, line.toString());
        assertTrue(line.has("overhead_ms") && line.has("upstream_ms") && line.has("ms"), line.toString());

        RawHttp.Response stream = Calls.stream(gateway, "emu", "Authorization: Bearer " + ALICE_KEY,
                "x-request-id: acc-2");
        assertEquals(200, stream.status);
        JsonNode streamed = access("acc-2");
        assertEquals("sse", streamed.path("format").asText());
        assertTrue(streamed.path("first_token_ms").asDouble() >= 0, streamed.toString());

        HttpResponse<String> refused = Calls.chat(gateway, "emu", "Authorization", "Bearer " + WRONG_KEY,
                "x-request-id", "acc-3");
        assertEquals(401, refused.statusCode());
        // refused at the edge, before any route ran (auth before the body): a line all the same, with its own id
        String id = refused.headers().firstValue("x-request-id").orElseThrow();
        JsonNode denied = access(id);
        assertEquals(401, denied.path("status").asInt());
        assertEquals("invalid_api_key", denied.path("error").asText());
        assertEquals("edge", denied.path("refused_at").asText());
    }

    @Test
    void noSecretReachesAnyLogLine() {
        Calls.chat(gateway, "emu", "Authorization", "Bearer " + ALICE_KEY);
        Calls.chat(gateway, "emu", "Authorization", "Bearer " + WRONG_KEY);
        Calls.chat(gateway, "emu", "x-api-key", WRONG_KEY);
        Calls.chat(gateway, "gone", "Authorization", "Bearer " + ALICE_KEY);
        upstream.failNext(1, 500).failMessage("upstream refused key " + UPSTREAM_KEY);
        Calls.chat(gateway, "emu", "Authorization", "Bearer " + ALICE_KEY);
        List<String> lines = logs.lines();
        assertTrue(lines.stream().anyMatch(l -> l.contains("dev.caravan.access")), lines.toString());
        for (String line : lines) {
            for (String secret : List.of(ALICE_KEY, WRONG_KEY, UPSTREAM_KEY, "sk-alice", "sk-wrong", "sk-upstream")) {
                assertFalse(line.contains(secret), "a secret in the log: " + line);
            }
        }
    }

    /** The request's access line (a stream's comes once it ended, just after the client read its end). */
    private JsonNode access(String requestId) {
        String line = Await.value("the access line of " + requestId, () -> logs.find(c ->
                c.logger().equals("dev.caravan.access") && c.message().contains(requestId)), l -> l != null,
                Duration.ofSeconds(10));
        return Calls.json(line.substring(line.indexOf('{')));
    }
}
