package dev.caravan.resilience;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;

import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.support.Calls;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.RawHttp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static dev.caravan.support.Calls.chat;
import static dev.caravan.support.Calls.errorCode;
import static dev.caravan.support.Calls.health;
import static dev.caravan.support.Calls.lane;
import static dev.caravan.support.Calls.millisSince;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A circuit breaker per backend and upstream model: it opens on a failure rate (and on slow first bytes), then
 * answers 503 circuit_open at once without calling the upstream, half-opens after its wait and closes on a good
 * probe; 429s do not open it, nor does one bad model close its backend for the others. Its state shows in /health,
 * /v1/lanes and /metrics (per backend, the worst of its models). Each test has its own backend and upstream.
 */
class CircuitBreakerTest {

    static UpstreamEmulator failing;
    static UpstreamEmulator picky;
    static UpstreamEmulator slow;
    static UpstreamEmulator quota;
    static UpstreamEmulator prefix;
    static GatewayInstance gateway;

    @BeforeAll
    static void start() {
        failing = UpstreamEmulator.start();
        picky = UpstreamEmulator.start();
        slow = UpstreamEmulator.start();
        quota = UpstreamEmulator.start();
        prefix = UpstreamEmulator.start();
        gateway = GatewayInstance.builder().config(yaml())
                .property("gateway.retry.max-attempts", "1") // one call per request: the breaker counts requests
                .property("gateway.circuit.minimum-calls", "4")
                .property("gateway.circuit.sliding-window-size", "4")
                .property("gateway.circuit.failure-rate-threshold", "50")
                .property("gateway.circuit.slow-call-rate-threshold", "50")
                .property("gateway.circuit.slow-call-duration-ms", "300")
                .property("gateway.circuit.wait-in-open-ms", "1500")
                .property("gateway.circuit.half-open-calls", "1")
                .start();
    }

    static String yaml() {
        return """
                backends:
                  failing: {type: openai, url: "%s"}
                  picky: {type: openai, url: "%s"}
                  slow: {type: openai, url: "%s"}
                  quota: {type: openai, url: "%s"}
                  prefix: {type: openai, url: "%s"}
                models:
                  failing-model: {backend: failing}
                  picky-model: {backend: picky}
                  slow-model: {backend: slow}
                  quota-model: {backend: quota}
                  "pre/*": {backend: prefix}
                """.formatted(failing.baseUrl(), picky.baseUrl(), slow.baseUrl(), quota.baseUrl(), prefix.baseUrl());
    }

    @AfterAll
    static void stop() {
        gateway.close();
        failing.close();
        picky.close();
        slow.close();
        quota.close();
        prefix.close();
    }

    @BeforeEach
    void reset() {
        failing.reset();
        picky.reset();
        slow.reset();
        quota.reset();
        prefix.reset();
    }

    @Test
    void opensOnFailuresFailsFastWithoutCallingTheUpstreamAndRecoversAfterAProbe() {
        assertEquals("closed", health(gateway, "failing").path("circuit").asText());
        failing.failNext(4, 500);
        for (int i = 0; i < 4; i++) {
            assertEquals(502, chat(gateway, "failing-model").statusCode());
        }
        assertEquals(4, failing.requests());
        assertEquals("open", health(gateway, "failing").path("circuit").asText());
        assertEquals("open", lane(gateway, "failing").path("circuit").asText());
        assertTrue(gateway.get("/metrics").body()
                        .contains("caravan_circuit_state{backend=\"failing\",state=\"open\"} 1.0"),
                "the Prometheus gauge shows it");

        long start = System.nanoTime();
        HttpResponse<String> refused = chat(gateway, "failing-model");
        assertEquals(503, refused.statusCode(), refused.body());
        assertEquals("circuit_open", errorCode(refused));
        long retryAfter = Long.parseLong(refused.headers().firstValue("retry-after").orElse("0"));
        assertTrue(retryAfter >= 1 && retryAfter <= 2, "seconds until half-open: " + retryAfter);
        assertTrue(millisSince(start) < 500, "failed fast");
        assertEquals(4, failing.requests(), "an open circuit does not call the upstream");

        assertTrue(UpstreamEmulator.await(() -> "half_open".equals(health(gateway, "failing").path("circuit").asText()),
                Duration.ofSeconds(5)), "half-open after the open wait");
        HttpResponse<String> probe = chat(gateway, "failing-model");
        assertEquals(200, probe.statusCode(), probe.body());
        assertEquals(5, failing.requests(), "the probe reached the upstream");
        assertEquals("closed", health(gateway, "failing").path("circuit").asText(), "a good probe closes it");
        assertEquals(200, chat(gateway, "failing-model").statusCode(), "traffic flows again");
        assertTrue(gateway.get("/metrics").body()
                .contains("caravan_circuit_state{backend=\"failing\",state=\"closed\"} 1.0"));
    }

    @Test
    void badRequestsDoNotOpenIt() {
        picky.failNext(6, 400);
        for (int i = 0; i < 6; i++) {
            assertEquals(400, chat(gateway, "picky-model").statusCode());
        }
        assertEquals("closed", health(gateway, "picky").path("circuit").asText(),
                "the backend answered; the requests were bad");
        assertEquals(200, chat(gateway, "picky-model").statusCode());
        assertEquals(7, picky.requests());
    }

    @Test
    void streamsAreJudgedByTheirFirstByteNotTheirLength() throws IOException {
        // long streams (8 tokens, 120 ms apart: ~0.8 s, past the 300 ms slow-call threshold) with a quick first byte
        slow.tokenDelayMs(120);
        for (int i = 0; i < 4; i++) {
            assertEquals(200, Calls.stream(gateway, "slow-model").status);
        }
        assertEquals("closed", health(gateway, "slow").path("circuit").asText(), "long streams are not slow calls");

        // now the first byte itself is slow: the second such call makes half of the last four slow
        slow.reset().firstTokenDelayMs(400);
        RawHttp.Response first = Calls.stream(gateway, "slow-model");
        assertEquals(200, first.status, first.body);
        assertEquals("closed", health(gateway, "slow").path("circuit").asText(), "one slow call in four");
        RawHttp.Response second = Calls.stream(gateway, "slow-model");
        assertEquals(200, second.status, second.body);
        assertEquals("open", health(gateway, "slow").path("circuit").asText(), "slow first bytes open the circuit");
        assertEquals(503, chat(gateway, "slow-model").statusCode());
        assertEquals(2, slow.requests());
    }

    @Test
    void upstream429sDoNotOpenIt() {
        quota.failNext(6, 429);
        for (int i = 0; i < 6; i++) {
            assertEquals(429, chat(gateway, "quota-model").statusCode());
        }
        assertEquals("closed", health(gateway, "quota").path("circuit").asText(),
                "a quota (often one tenant's) is not a failing upstream");
        assertEquals(200, chat(gateway, "quota-model").statusCode());
        assertEquals(7, quota.requests());
    }

    @Test
    void oneBadModelOnAPrefixBackendDoesNotCloseItForItsOtherModels() {
        prefix.failNext(4, 500);
        for (int i = 0; i < 4; i++) {
            assertEquals(502, chat(gateway, "pre/bad").statusCode());
        }
        HttpResponse<String> refused = chat(gateway, "pre/bad");
        assertEquals(503, refused.statusCode(), refused.body());
        assertEquals("circuit_open", errorCode(refused));
        assertTrue(refused.body().contains("pre/bad"), refused.body());
        assertEquals(4, prefix.requests(), "the open circuit kept pre/bad off the upstream");

        HttpResponse<String> other = chat(gateway, "pre/good");
        assertEquals(200, other.statusCode(), "another model of the backend is still served: " + other.body());
        assertEquals(5, prefix.requests());
        // per backend, the worst of its models, plus which model
        assertEquals("open", health(gateway, "prefix").path("circuit").asText());
        assertEquals("open", health(gateway, "prefix").path("circuit_models").path("bad").asText());
        assertEquals("open", lane(gateway, "prefix").path("circuit_models").path("bad").asText());
        String metrics = gateway.get("/metrics").body();
        assertTrue(metrics.contains("caravan_circuit_state{backend=\"prefix\",state=\"open\"} 1.0"), metrics);
        assertTrue(metrics.lines().filter(line -> line.startsWith("caravan_circuit_state{"))
                        .allMatch(line -> line.matches("caravan_circuit_state\\{backend=\"[a-z]+\",state=\"[a-z_]+\"} .*")),
                "the gauge's labels stay one set per backend, no model: " + metrics);
    }

    @Test
    void scopeBackendMakesOneCircuitPerBackend() {
        try (GatewayInstance perBackend = GatewayInstance.builder().config(yaml())
                .property("gateway.retry.max-attempts", "1")
                .property("gateway.circuit.minimum-calls", "4")
                .property("gateway.circuit.sliding-window-size", "4")
                .property("gateway.circuit.wait-in-open-ms", "60000")
                .property("gateway.circuit.scope", "backend")
                .start()) {
            prefix.failNext(4, 500);
            for (int i = 0; i < 4; i++) {
                assertEquals(502, chat(perBackend, "pre/bad").statusCode());
            }
            HttpResponse<String> other = chat(perBackend, "pre/good");
            assertEquals(503, other.statusCode(), other.body());
            assertEquals("circuit_open", errorCode(other));
        }
    }

    @Test
    void modelsPastMaxModelsShareOneCircuitSoInventedIdsCannotGrowTheSet() {
        try (GatewayInstance capped = GatewayInstance.builder().config(yaml())
                .property("gateway.retry.max-attempts", "1")
                .property("gateway.circuit.minimum-calls", "4")
                .property("gateway.circuit.sliding-window-size", "4")
                .property("gateway.circuit.wait-in-open-ms", "60000")
                .property("gateway.circuit.max-models", "1")
                .start()) {
            assertEquals(200, chat(capped, "pre/first").statusCode()); // the backend's one circuit of its own
            prefix.failNext(4, 500);
            for (int i = 0; i < 4; i++) {
                assertEquals(502, chat(capped, "pre/invented-" + i).statusCode());
            }
            // the invented ids went through the one shared circuit, now open; pre/first keeps its own
            HttpResponse<String> another = chat(capped, "pre/invented-5");
            assertEquals(503, another.statusCode(), another.body());
            assertEquals("circuit_open", errorCode(another));
            assertEquals(200, chat(capped, "pre/first").statusCode());
            assertEquals("open", health(capped, "prefix").path("circuit").asText());
        }
    }
}
