package dev.caravan.limits;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.openai.Json;
import dev.caravan.support.Calls;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.RawHttp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Per-key rate limits over real HTTP, the same scenarios for each bucket store (memory, Redis): the request
 * bucket lets exactly its burst through and refills at its rate; the token bucket refuses a reservation it
 * cannot hold before the upstream is called, and gets back what a request did not use (finished, failed,
 * abandoned mid-stream). Each test has a key of its own, so no test sees another's buckets.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class RateLimitScenarios {

    static final Duration TIMEOUT = Duration.ofSeconds(20);
    static final String PROMPT = "[{\"role\":\"user\",\"content\":\"hi there\"}]";

    UpstreamEmulator upstream;
    GatewayInstance gateway;

    /** The gateway under test, with the store to test. */
    abstract GatewayInstance.Builder gatewayBuilder();

    static String yaml(UpstreamEmulator upstream) {
        // the defaults (gateway.rate-limit-per-min 6, burst 2) apply to keys that set no limit of their own
        return """
                backends:
                  emu: {type: openai, url: "%s"}
                models:
                  emu-model: {backend: emu}
                  other-model: {backend: emu}
                keys:
                  - {key: sk-free, name: free, rate-limit-per-min: 0}
                  - {key: sk-burst, name: burst, rate-limit-per-min: 60, burst: 3}
                  - {key: sk-refill, name: refill, rate-limit-per-min: 60, burst: 2}
                  - {key: sk-default, name: default}
                  - {key: sk-tok-refuse, name: tok-refuse, rate-limit-per-min: 0, tokens-per-min: 1000}
                  - {key: sk-tok-settle, name: tok-settle, rate-limit-per-min: 0, tokens-per-min: 1000}
                  - {key: sk-tok-stream, name: tok-stream, rate-limit-per-min: 0, tokens-per-min: 1000}
                  - {key: sk-shared, name: shared, rate-limit-per-min: 6, burst: 4}
                  - {key: sk-tok-huge, name: tok-huge, rate-limit-per-min: 0, tokens-per-min: 100000}
                  - {key: sk-tok-crash, name: tok-crash, rate-limit-per-min: 0, tokens-per-min: 1000}
                  - {key: sk-tok-forbidden, name: tok-forbidden, rate-limit-per-min: 0, tokens-per-min: 1000,
                     models: [emu-model]}
                """.formatted(upstream.baseUrl());
    }

    @BeforeAll
    void start() throws Exception {
        upstream = UpstreamEmulator.start();
        gateway = gatewayBuilder().config(yaml(upstream))
                .property("gateway.rate-limit-per-min", "6")
                .property("gateway.rate-limit-burst", "2")
                .start();
        for (int i = 0; i < 5; i++) {
            // warm the path, so that the timing of the first limited request is not the JIT's
            assertEquals(200, chat(gateway, "sk-free", 16).statusCode());
        }
    }

    @AfterAll
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        upstream.close();
    }

    @BeforeEach
    void reset() {
        upstream.reset();
    }

    // -- the request bucket ------------------------------------------------------------------------------------

    @Test
    void exactlyTheBurstPassesThenA429WithRetryAfter() throws Exception {
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> ok = chat(gateway, "sk-burst", 16);
            assertEquals(200, ok.statusCode(), ok.body());
            assertEquals("3", header(ok, "x-ratelimit-limit-requests"));
            assertEquals(Integer.toString(2 - i), header(ok, "x-ratelimit-remaining-requests"));
            assertTrue(header(ok, "x-ratelimit-reset-requests").matches("\\d+(\\.\\d+)?m?s"),
                    header(ok, "x-ratelimit-reset-requests"));
        }
        HttpResponse<String> refused = chat(gateway, "sk-burst", 16);
        JsonNode error = rateLimited(refused);
        assertTrue(error.path("message").asText().contains("requests"), error.toString());
        assertEquals("0", header(refused, "x-ratelimit-remaining-requests"));
        assertEquals("3", header(refused, "x-ratelimit-limit-requests"));
        assertTrue(Long.parseLong(header(refused, "retry-after")) >= 1);
        assertEquals(3, upstream.requests(), "the refused request never reached the upstream");
    }

    @Test
    void theRequestBucketRefillsAtItsRate() throws Exception {
        // 60 a minute: one request a second, so the third request is refused even on a loaded machine
        assertEquals(200, chat(gateway, "sk-refill", 16).statusCode());
        assertEquals(200, chat(gateway, "sk-refill", 16).statusCode());
        HttpResponse<String> refused = chat(gateway, "sk-refill", 16);
        rateLimited(refused);
        assertEquals("1", header(refused, "retry-after"), "rounded up to whole seconds");
        long waitMillis = Long.parseLong(header(refused, "retry-after-ms"));
        assertTrue(waitMillis >= 1 && waitMillis <= 1000, "retry-after-ms " + waitMillis);
        HttpResponse<String> later = retryAsTold(() -> chat(gateway, "sk-refill", 16), Duration.ofSeconds(4));
        assertEquals(200, later.statusCode(), "no refill within 4 s: " + later.body());
        assertEquals(3, upstream.requests());
    }

    @Test
    void keysWithoutLimitsOfTheirOwnGetTheDefaults() throws Exception {
        assertEquals(200, chat(gateway, "sk-default", 16).statusCode());
        HttpResponse<String> second = chat(gateway, "sk-default", 16);
        assertEquals(200, second.statusCode());
        assertEquals("2", header(second, "x-ratelimit-limit-requests"));
        rateLimited(chat(gateway, "sk-default", 16));
        // and a key that sets rate-limit-per-min: 0 has no request limit, whatever the default
        HttpResponse<String> free = chat(gateway, "sk-free", 16);
        assertEquals(200, free.statusCode());
        assertTrue(free.headers().firstValue("x-ratelimit-limit-requests").isEmpty());
    }

    // -- the token bucket --------------------------------------------------------------------------------------

    @Test
    void aReservationTheBucketCannotHoldIsRefusedBeforeTheUpstream() throws Exception {
        upstream.hangNext(1);
        // holds ~906 of the key's 1000 tokens for as long as it runs
        try (RawHttp holder = RawHttp.postJson(gateway.port(), "/v1/chat/completions", body(900, false),
                "x-api-key: sk-tok-refuse")) {
            assertTrue(upstream.awaitRequests(1, TIMEOUT));
            HttpResponse<String> refused = chat(gateway, "sk-tok-refuse", 500);
            JsonNode error = rateLimited(refused);
            assertTrue(error.path("message").asText().contains("tokens"), error.toString());
            assertEquals("1000", header(refused, "x-ratelimit-limit-tokens"));
            assertTrue(Long.parseLong(header(refused, "x-ratelimit-remaining-tokens")) < 100);
            assertTrue(Long.parseLong(header(refused, "retry-after")) >= 1);
            assertEquals(1, upstream.requests(), "the refused request must not reach the upstream");
        }
        // the holder's client left before any reply: it is charged its prompt only, the rest comes back at once
        // (without the refund the bucket would need ~25 s to refill that far)
        HttpResponse<String> after = retryAsTold(() -> chat(gateway, "sk-tok-refuse", 500), Duration.ofSeconds(3));
        assertEquals(200, after.statusCode(), after.body());
    }

    @Test
    void whatARequestDidNotUseComesBack() throws Exception {
        HttpResponse<String> first = chat(gateway, "sk-tok-settle", 900);
        assertEquals(200, first.statusCode(), first.body());
        assertEquals("1000", header(first, "x-ratelimit-limit-tokens"));
        long leftAfterReservation = Long.parseLong(header(first, "x-ratelimit-remaining-tokens"));
        assertTrue(leftAfterReservation < 100, "reserved prompt + max_tokens: " + leftAfterReservation);
        assertTrue(header(first, "x-ratelimit-reset-tokens").matches("\\d+(\\.\\d+)?s"),
                header(first, "x-ratelimit-reset-tokens"));
        long used = Json.MAPPER.readTree(first.body()).path("usage").path("total_tokens").asLong();
        assertTrue(used > 0 && used < 50, "the emulator's usage: " + used);
        // settled on the real usage: the same reservation fits again at once
        HttpResponse<String> second = chat(gateway, "sk-tok-settle", 900);
        assertEquals(200, second.statusCode(), "the unused reservation was not given back: " + second.body());
        long left = Long.parseLong(header(second, "x-ratelimit-remaining-tokens"));
        // 1000 - used - reservation (+ a little refill): the first request cost its usage, not its reservation
        assertTrue(left >= leftAfterReservation - used && left < leftAfterReservation + 20,
                "left " + left + " after a reservation that left " + leftAfterReservation + " and a usage of " + used);
    }

    @Test
    void aStreamTheClientAbandonsStillSettles() throws Exception {
        upstream.reply("one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
                + "fifteen sixteen seventeen eighteen nineteen twenty").tokenDelayMs(50);
        try (RawHttp stream = RawHttp.postJson(gateway.port(), "/v1/chat/completions", body(900, true),
                "x-api-key: sk-tok-stream")) {
            RawHttp.Response head = stream.readHead();
            assertEquals(200, head.status);
            // a stream carries the rate-limit headers in its head
            assertEquals("1000", head.headers.get("x-ratelimit-limit-tokens"));
            assertTrue(Long.parseLong(head.headers.get("x-ratelimit-remaining-tokens")) < 100, head.headers.toString());
            for (String line = stream.readLine(); line != null && !line.startsWith("data: "); line = stream.readLine()) {
                // up to the first event
            }
        } // the client leaves mid-stream
        assertTrue(upstream.awaitClientAborts(1, TIMEOUT), "the upstream call was not aborted");
        upstream.tokenDelayMs(0);
        HttpResponse<String> after = retryAsTold(() -> chat(gateway, "sk-tok-stream", 900), Duration.ofSeconds(3));
        assertEquals(200, after.statusCode(), "the abandoned stream did not settle: " + after.body());
    }

    @Test
    void aRequestRefusedBeforeTheUpstreamGivesAllItsTokensBack() throws Exception {
        HttpResponse<String> forbidden = gateway.send(HttpRequest.newBuilder(gateway.uri("/v1/chat/completions"))
                .timeout(TIMEOUT).header("Content-Type", "application/json")
                .header("Authorization", "Bearer sk-tok-forbidden")
                .POST(HttpRequest.BodyPublishers.ofString(body(900, false).replace("emu-model", "other-model")))
                .build());
        assertEquals(403, forbidden.statusCode(), forbidden.body());
        // the 403 came after the reservation (the model is checked once resolved); it must not cost ~906 tokens
        HttpResponse<String> allowed = chat(gateway, "sk-tok-forbidden", 900);
        assertEquals(200, allowed.statusCode(), "the refused request kept its reservation: " + allowed.body());
        assertEquals(1, upstream.requests());
    }

    @Test
    void aHugeMaxTokensDoesNotLockTheKeyOut() throws Exception {
        upstream.hangNext(1);
        // max_tokens 2^31-1 reserves at most TOKEN_RESERVATION_MAX (32768): the key's 100000 still serve others
        try (RawHttp holder = RawHttp.postJson(gateway.port(), "/v1/chat/completions", body(Integer.MAX_VALUE, false),
                "x-api-key: sk-tok-huge")) {
            assertTrue(upstream.awaitRequests(1, TIMEOUT));
            HttpResponse<String> other = chat(gateway, "sk-tok-huge", 16);
            assertEquals(200, other.statusCode(), "one huge max_tokens in flight locked the key: " + other.body());
            long left = Long.parseLong(header(other, "x-ratelimit-remaining-tokens"));
            assertTrue(left >= 100_000 - 32_768 - 100, "the huge request reserved more than the ceiling: " + left);
        }
    }

    // -- helpers -----------------------------------------------------------------------------------------------

    static String body(int maxTokens, boolean stream) {
        return "{\"model\":\"emu-model\",\"max_tokens\":" + maxTokens + ",\"stream\":" + stream
                + ",\"messages\":" + PROMPT + "}";
    }

    static HttpResponse<String> chat(GatewayInstance g, String key, int maxTokens) {
        return g.send(Calls.chatRequest(g, body(maxTokens, false), "Authorization", "Bearer " + key)
                .timeout(TIMEOUT).build());
    }

    static String header(HttpResponse<String> response, String name) {
        return response.headers().firstValue(name)
                .orElseThrow(() -> new AssertionError("no " + name + " header: " + response.headers().map()));
    }

    static JsonNode rateLimited(HttpResponse<String> response) throws IOException {
        assertEquals(429, response.statusCode(), response.body());
        JsonNode error = Json.MAPPER.readTree(response.body()).path("error");
        assertEquals("rate_limit_exceeded", error.path("code").asText(), response.body());
        assertEquals("rate_limit_exceeded", error.path("type").asText(), response.body());
        assertTrue(Long.parseLong(header(response, "retry-after")) >= 1);
        return error;
    }

    /**
     * Sends until a 200, waiting between tries as long as each 429's retry-after-ms says (at most 100 ms: a
     * refund can come before the refill the header promises); gives up at the deadline.
     */
    static HttpResponse<String> retryAsTold(java.util.function.Supplier<HttpResponse<String>> send, Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        HttpResponse<String> response = send.get();
        while (response.statusCode() == 429 && System.nanoTime() - deadline < 0) {
            long wait = Long.parseLong(response.headers().firstValue("retry-after-ms").orElse("10"));
            LockSupport.parkNanos(Duration.ofMillis(Math.min(wait, 100)).toNanos());
            response = send.get();
        }
        return response;
    }
}
