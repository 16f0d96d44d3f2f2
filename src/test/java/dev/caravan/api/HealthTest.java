package dev.caravan.api;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.support.Calls;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.RedisServer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GET /health (issue 6 items 6 and 12): without the admin key it names the backends and their states only, no
 * URL or credential; with the admin key it adds the details, the URL still without credentials. A Redis that
 * stalls makes it "degraded" within its PING timeout instead of hanging it.
 */
class HealthTest {

    private static final String CONFIG = """
            backends:
              emu:
                type: openai
                url: http://upstream-user:upstream-pass@127.0.0.1:9/v1?key=query-secret
                api-key: sk-upstream-secret
            models:
              m: {backend: emu}
            keys:
              - {key: k-user, name: user, models: ["*"]}
            """;

    @Test
    void withoutTheAdminKeyHealthShowsNamesAndStatesOnly() throws Exception {
        try (GatewayInstance gateway = GatewayInstance.builder().config(CONFIG)
                .property("gateway.admin-api-key", "k-admin").start()) {
            for (String[] caller : new String[][] {{"no key"}, {"a normal key", "Authorization", "Bearer k-user"},
                    {"a wrong key", "Authorization", "Bearer k-nobody"}}) {
                HttpResponse<String> health = health(gateway, caller);
                assertEquals(200, health.statusCode(), caller[0] + ": " + health.body());
                JsonNode emu = Calls.json(health.body()).path("backends").path("emu");
                assertEquals("ok", emu.path("status").asText(), caller[0] + ": " + health.body());
                assertEquals("closed", emu.path("circuit").asText(), caller[0] + ": " + health.body());
                for (String leak : new String[] {"url", "type", "lane"}) {
                    assertTrue(emu.path(leak).isMissingNode(), caller[0] + ": no " + leak + " in " + health.body());
                }
                for (String secret : new String[] {"127.0.0.1", "upstream-user", "upstream-pass", "query-secret",
                        "sk-upstream-secret"}) {
                    assertFalse(health.body().contains(secret), caller[0] + ": " + secret + " in " + health.body());
                }
            }

            for (String[] admin : new String[][] {{"Authorization", "Bearer k-admin"}, {"x-api-key", "k-admin"}}) {
                HttpResponse<String> health = health(gateway, "admin", admin[0], admin[1]);
                JsonNode emu = Calls.json(health.body()).path("backends").path("emu");
                assertEquals("openai", emu.path("type").asText(), health.body());
                assertEquals("http://127.0.0.1:9/v1", emu.path("url").asText(), health.body());
                assertEquals(0, emu.path("lane").path("in_flight").asInt(-1), health.body());
                assertTrue(emu.path("lane").path("max_concurrent").asInt() >= 1, health.body());
                for (String secret : new String[] {"upstream-user", "upstream-pass", "query-secret",
                        "sk-upstream-secret"}) {
                    assertFalse(health.body().contains(secret), secret + " in " + health.body());
                }
            }
        }
    }

    @Test
    void healthAnswersWithinItsTimeoutWhileRedisStalls() throws Exception {
        try (RedisServer redis = RedisServer.start();
             GatewayInstance gateway = GatewayInstance.builder()
                     .property("gateway.redis-url", redis.url())
                     .property("gateway.health-redis-timeout-ms", "300")
                     .start()) {
            JsonNode before = Calls.json(health(gateway, "before").body());
            assertEquals("ok", before.path("status").asText(), before.toString());
            assertEquals("ok", before.at("/state/redis").asText(), before.toString());

            redis.freeze();
            long start = System.nanoTime();
            HttpResponse<String> stalled = health(gateway, "stalled");
            long millis = Calls.millisSince(start);
            assertEquals(200, stalled.statusCode(), stalled.body());
            JsonNode body = Calls.json(stalled.body());
            assertEquals("degraded", body.path("status").asText(), stalled.body());
            assertEquals("unreachable", body.at("/state/redis").asText(), stalled.body());
            assertTrue(millis < 2000, "/health answered in " + millis + " ms with a 300 ms PING timeout");

            redis.thaw();
            long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            String status = "";
            while (!"ok".equals(status) && System.nanoTime() - end < 0) {
                status = Calls.json(health(gateway, "thawed").body()).path("status").asText();
            }
            assertEquals("ok", status, "healthy again once Redis answers");
        }
    }

    private static HttpResponse<String> health(GatewayInstance gateway, String... callerAndHeaders) {
        HttpRequest.Builder request = HttpRequest.newBuilder(gateway.uri("/health")).timeout(Duration.ofSeconds(10));
        for (int i = 1; i + 1 < callerAndHeaders.length; i += 2) {
            request.header(callerAndHeaders[i], callerAndHeaders[i + 1]);
        }
        return gateway.send(request.GET().build());
    }
}
