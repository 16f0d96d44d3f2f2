package dev.caravan.resilience;

import java.net.http.HttpResponse;

import dev.caravan.support.EmulatedGateway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static dev.caravan.support.Calls.chat;
import static dev.caravan.support.Calls.errorCode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Retries and circuit breakers are per backend (gateway.yaml retry: and circuit-breaker:, defaults
 * gateway.retry.* and gateway.circuit.*), counted where they land: at the upstream.
 */
class PerBackendResilienceTest {

    @RegisterExtension
    static final EmulatedGateway env = EmulatedGateway.withEmulator(emulator -> """
            backends:
              once:
                type: openai
                url: "%s"
                retry: {max-attempts: 1}
              thrice:
                type: openai
                url: "%s"
                retry: {max-attempts: 3, base-delay-ms: 5, max-delay-ms: 20}
              defaults: {type: openai, url: "%s"}
              fragile:
                type: openai
                url: "%s"
                retry: {max-attempts: 1}
                circuit-breaker: {minimum-calls: 2, sliding-window-size: 2, failure-rate-threshold: 50, wait-in-open-ms: 45000}
            models:
              o: {backend: once}
              t: {backend: thrice}
              d: {backend: defaults}
              f: {backend: fragile}
            """.formatted(emulator.baseUrl(), emulator.extraBaseUrl(), emulator.extraBaseUrl(), emulator.extraBaseUrl()))
            // the global defaults: 2 attempts, a circuit that would need 1000 calls to judge
            .property("gateway.retry.max-attempts", "2")
            .property("gateway.retry.base-delay-ms", "5")
            .property("gateway.circuit.minimum-calls", "1000")
            .property("gateway.circuit.sliding-window-size", "1000");

    @Test
    void eachBackendRetriesAsItsOwnSettingsSay() {
        env.upstream().failNext(10, 500);
        assertEquals(502, chat(env.gateway(), "o").statusCode());
        assertEquals(1, env.upstream().requests(), "retry: {max-attempts: 1}: no retry");

        env.upstream().reset().failNext(10, 500);
        assertEquals(502, chat(env.gateway(), "t").statusCode());
        assertEquals(3, env.upstream().requests(), "retry: {max-attempts: 3}");

        env.upstream().reset().failNext(10, 500);
        assertEquals(502, chat(env.gateway(), "d").statusCode());
        assertEquals(2, env.upstream().requests(), "no retry: of its own: gateway.retry.max-attempts");

        env.upstream().reset().failNext(2, 503);
        HttpResponse<String> recovered = chat(env.gateway(), "t");
        assertEquals(200, recovered.statusCode(), recovered.body());
        assertEquals(3, env.upstream().requests());
    }

    @Test
    void aBackendsCircuitOpensAfterItsOwnMinimumCallsWhileTheOthersStayClosed() {
        env.upstream().failNext(4, 500);
        assertEquals(502, chat(env.gateway(), "f").statusCode());
        assertEquals(502, chat(env.gateway(), "f").statusCode());
        HttpResponse<String> open = chat(env.gateway(), "f");
        assertEquals(503, open.statusCode(), open.body());
        assertEquals("circuit_open", errorCode(open));
        long retryAfter = Long.parseLong(open.headers().firstValue("retry-after").orElse("0"));
        assertTrue(retryAfter > 30 && retryAfter <= 45, "its own wait-in-open-ms of 45 s: " + retryAfter);
        assertEquals(2, env.upstream().requests(), "circuit-breaker: {minimum-calls: 2}: open after 2 failures");

        // the same two failures on a backend with the defaults (1000 calls to judge) leave its circuit closed
        env.upstream().reset().failNext(2, 500);
        assertEquals(502, chat(env.gateway(), "o").statusCode());
        assertEquals(502, chat(env.gateway(), "o").statusCode());
        assertEquals(200, chat(env.gateway(), "o").statusCode());
        assertEquals(3, env.upstream().requests());
    }
}
