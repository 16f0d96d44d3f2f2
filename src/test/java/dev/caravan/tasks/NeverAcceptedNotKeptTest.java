package dev.caravan.tasks;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.support.Calls;
import dev.caravan.support.EmulatedGateway;
import dev.caravan.support.GatewayInstance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The DLQ holds accepted work that failed (issue 6 item 10): a request refused before it was accepted (400, 401,
 * 403, 404, 413, 429) or answered 503 not_ready while a route of its pipeline reloads is never kept; an upstream
 * failure after acceptance is.
 */
class NeverAcceptedNotKeptTest {

    @RegisterExtension
    static final EmulatedGateway env = EmulatedGateway.withConfig(url -> """
            backends:
              emu: {type: openai, url: "%s"}
            models:
              m: {backend: emu}
              other: {backend: emu}
            keys:
              - {key: k-user, name: user, models: ["m"]}
              - {key: k-limited, name: limited, models: ["m"], rate-limit-per-min: 1, burst: 1}
            """.formatted(url))
            .property("gateway.admin-api-key", "k-admin")
            .property("camel.server.max-body-size", "4096")
            .property("gateway.retry.base-delay-ms", "1")
            .property("gateway.retry.max-delay-ms", "5")
            .property("gateway.circuit.minimum-calls", "10000")
            .property("gateway.circuit.sliding-window-size", "10000");

    @Test
    void refusalsAndReloadRefusalsAreNotKeptUpstreamFailuresAre() throws Exception {
        GatewayInstance gateway = env.gateway();
        int before = dlqSize(gateway);

        assertStatus(400, chat(gateway, "k-user", "{\"model\":\"m\"}"));
        assertStatus(401, chat(gateway, null, Calls.body("m", "hi")));
        assertStatus(403, chat(gateway, "k-user", Calls.body("other", "hi")));
        assertStatus(404, chat(gateway, "k-user", Calls.body("no-such-model", "hi")));
        assertStatus(413, chat(gateway, "k-user", Calls.body("m", "x".repeat(8192))));
        assertStatus(200, chat(gateway, "k-limited", Calls.body("m", "hi")));
        assertStatus(429, chat(gateway, "k-limited", Calls.body("m", "hi")));

        // a route of the pipeline is down for a moment, as while its file reloads: 503 not_ready
        gateway.camel().getRouteController().stopRoute("mid-hooks");
        try {
            HttpResponse<String> reloading = chat(gateway, "k-user", Calls.body("m", "hi"));
            assertStatus(503, reloading);
            assertEquals("not_ready", Calls.errorCode(reloading), reloading.body());
            assertEquals("1", reloading.headers().firstValue("retry-after").orElse(""), reloading.body());
        } finally {
            gateway.camel().getRouteController().startRoute("mid-hooks");
        }
        assertEquals(before, dlqSize(gateway), "requests that were never accepted are not dead letters");

        // accepted work that failed upstream is kept: the count above could have moved
        env.upstream().failNext(100, 500);
        assertStatus(502, chat(gateway, "k-user", Calls.body("m", "fail upstream")));
        assertEquals(before + 1, dlqSize(gateway), "an upstream failure is a dead letter");
    }

    private static void assertStatus(int status, HttpResponse<String> response) {
        assertEquals(status, response.statusCode(), response.body());
    }

    private static HttpResponse<String> chat(GatewayInstance gateway, String key, String json) {
        // HTTP/1.1: the 413 over the JDK client's h2c upgrade hangs (an HTTP-edge matter, not this test's)
        HttpRequest.Builder request = HttpRequest.newBuilder(gateway.uri("/v1/chat/completions"))
                .timeout(Duration.ofSeconds(20)).version(java.net.http.HttpClient.Version.HTTP_1_1)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return gateway.send(request.build());
    }

    private static int dlqSize(GatewayInstance gateway) {
        HttpResponse<String> list = gateway.send(HttpRequest.newBuilder(gateway.uri("/tasks/dlq"))
                .header("Authorization", "Bearer k-admin").GET().build());
        assertEquals(200, list.statusCode(), list.body());
        JsonNode body = Calls.json(list.body());
        return body.path("data").size();
    }
}
