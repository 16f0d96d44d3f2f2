package dev.caravan.resilience;

import java.net.http.HttpResponse;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.support.Calls;
import dev.caravan.support.EmulatedGateway;
import dev.caravan.support.RawHttp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static dev.caravan.support.Calls.chat;
import static dev.caravan.support.Calls.errorCode;
import static dev.caravan.support.Calls.millisSince;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Retries, counted where they land: at the upstream. Failures that another call may fix are retried up to
 * gateway.retry.max-attempts calls in all; a bad request is not; a stream that reached the client is not; an
 * upstream's retry-after is waited in full (or, when longer than the cap, handed to the client).
 */
class RetryTest {

    @RegisterExtension
    static final EmulatedGateway env = EmulatedGateway.withConfig(url -> """
            backends:
              flaky: {type: openai, url: "%s"}
            models:
              m: {backend: flaky}
            """.formatted(url))
            .property("gateway.retry.max-attempts", "3")
            // short backoff, so that a retry-after waited in full stands out
            .property("gateway.retry.base-delay-ms", "10")
            .property("gateway.retry.max-delay-ms", "3000")
            // the circuit stays out of these tests
            .property("gateway.circuit.minimum-calls", "1000")
            .property("gateway.circuit.sliding-window-size", "1000");

    @Test
    void twoFailuresThenASuccessIsAnAnswerAfterThreeCalls() {
        env.upstream().failNext(2, 503);
        HttpResponse<String> response = chat(env.gateway(), "m");
        assertEquals(200, response.statusCode(), response.body());
        assertEquals(3, env.upstream().requests());
    }

    @Test
    void aBackendThatKeepsFailingGets502AfterExactlyMaxAttemptsCalls() {
        env.upstream().failNext(5, 500);
        HttpResponse<String> response = chat(env.gateway(), "m");
        assertEquals(502, response.statusCode(), response.body());
        assertEquals("upstream_error", errorCode(response));
        assertEquals(3, env.upstream().requests());
    }

    @Test
    void badGatewayAndGatewayTimeoutAreRetriedToo() {
        env.upstream().failNext(1, 502);
        assertEquals(200, chat(env.gateway(), "m").statusCode());
        env.upstream().failNext(1, 504);
        assertEquals(200, chat(env.gateway(), "m").statusCode());
        assertEquals(4, env.upstream().requests());
    }

    @Test
    void aBadRequestIsNotRetried() {
        env.upstream().failNext(3, 400);
        HttpResponse<String> response = chat(env.gateway(), "m");
        assertEquals(400, response.statusCode(), response.body());
        assertEquals(1, env.upstream().requests());

        env.upstream().reset().failNext(3, 404);
        assertEquals(404, chat(env.gateway(), "m").statusCode());
        assertEquals(1, env.upstream().requests(), "an upstream that does not know the model will not learn it");
    }

    @Test
    void anUpstreamRetryAfterIsWaitedInFull() {
        env.upstream().retryAfterSeconds(1).failNext(1, 429);
        long start = System.nanoTime();
        HttpResponse<String> response = chat(env.gateway(), "m");
        long took = millisSince(start);
        assertEquals(200, response.statusCode(), response.body());
        assertEquals(2, env.upstream().requests());
        // without the retry-after, the backoff here is at most 10 ms
        assertTrue(took >= 950, "waited the upstream's retry-after of 1 s: " + took + " ms");
    }

    @Test
    void aRetryAfterLongerThanTheCapGoesToTheClientInsteadOfAWait() {
        env.upstream().retryAfterSeconds(30).failNext(3, 429);
        long start = System.nanoTime();
        HttpResponse<String> response = chat(env.gateway(), "m");
        assertEquals(429, response.statusCode(), response.body());
        assertEquals("upstream_rate_limited", errorCode(response));
        assertEquals("30", response.headers().firstValue("retry-after").orElse(null));
        assertEquals(1, env.upstream().requests());
        assertTrue(millisSince(start) < 2000, "answered at once");
    }

    @Test
    void aRetryThatWouldEndPastTheDeadlineIsNotMade() {
        env.upstream().retryAfterSeconds(2).failNext(3, 503);
        long start = System.nanoTime();
        HttpResponse<String> response = chat(env.gateway(), "m", "x-caravan-timeout-seconds", "1");
        assertEquals(502, response.statusCode(), response.body());
        assertEquals(1, env.upstream().requests(), "a 2 s wait does not fit in a 1 s deadline");
        assertTrue(millisSince(start) < 900, "answered at once, not at the deadline");
    }

    @Test
    void aStreamIsRetriedWhileNothingReachedTheClient() throws Exception {
        env.upstream().failNext(2, 503);
        RawHttp.Response response = Calls.stream(env.gateway(), "m");
        assertEquals(200, response.status);
        List<String> events = response.events();
        assertEquals("[DONE]", events.get(events.size() - 1), response.body);
        assertEquals(3, env.upstream().requests());
    }

    @Test
    void noRetryOnceTheFirstTokenOfAStreamReachedTheClient() throws Exception {
        env.upstream().cutAfterTokens(2);
        RawHttp.Response response = Calls.stream(env.gateway(), "m");
        assertEquals(200, response.status);
        List<String> events = response.events();
        assertFalse(events.contains("[DONE]"), response.body);
        JsonNode error = Calls.lastEvent(response).path("error");
        assertEquals("upstream_error", error.path("type").asText(), response.body);
        assertTrue(events.size() >= 3, "the tokens before the cut reached the client: " + response.body);
        assertEquals(1, env.upstream().requests(), "exactly one upstream call");
    }
}
