package dev.caravan.resilience;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.support.Calls;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.RawHttp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static dev.caravan.support.Calls.chat;
import static dev.caravan.support.Calls.chatAsync;
import static dev.caravan.support.Calls.errorCode;
import static dev.caravan.support.Calls.lane;
import static dev.caravan.support.Calls.millisSince;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PIPELINE_TIMEOUT_SECONDS (here 1 s) bounds the whole request: a hanging upstream is aborted, a request waiting in a
 * full lane leaves it, a started stream ends with an error event — each at the deadline, as 504 deadline_exceeded.
 */
class DeadlineTest {

    static UpstreamEmulator upstream;
    static GatewayInstance gateway;

    @BeforeAll
    static void start() {
        upstream = UpstreamEmulator.start();
        gateway = GatewayInstance.builder().config("""
                backends:
                  single: {type: openai, url: "%s", max-concurrent: 1, queue-size: 10, queue-timeout-seconds: 30}
                models:
                  m: {backend: single}
                """.formatted(upstream.baseUrl()))
                .property("gateway.pipeline-timeout-seconds", "1")
                .property("gateway.circuit.minimum-calls", "1000")
                .property("gateway.circuit.sliding-window-size", "1000")
                .start();
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.close();
    }

    @BeforeEach
    void reset() {
        assertTrue(UpstreamEmulator.await(() -> upstream.inFlight() == 0
                && lane(gateway, "single").path("in_flight").asInt() == 0, Duration.ofSeconds(5)), "lane drained");
        upstream.reset();
    }

    @Test
    void aHangingUpstreamIsAbortedAt504WhenTheDeadlinePasses() {
        upstream.hangNext(1);
        long start = System.nanoTime();
        HttpResponse<String> response = chat(gateway, "m");
        long took = millisSince(start);
        assertEquals(504, response.statusCode(), response.body());
        assertEquals("deadline_exceeded", errorCode(response));
        assertTrue(took >= 900 && took < 2500, "at the 1 s deadline: " + took + " ms");
        assertTrue(upstream.awaitClientAborts(1, Duration.ofSeconds(5)), "the upstream call was aborted");
        assertEquals(1, upstream.requests(), "the deadline is not a reason to retry");
    }

    @Test
    void aRequestWaitingInAFullLaneGets504AtItsDeadline() {
        upstream.hangNext(1);
        CompletableFuture<HttpResponse<String>> holder = chatAsync(gateway, "m"); // takes the only slot until 1 s
        assertTrue(upstream.awaitInFlight(1, Duration.ofSeconds(5)));

        long start = System.nanoTime();
        HttpResponse<String> waiter = chat(gateway, "m", "x-caravan-timeout-seconds", "0.4");
        long took = millisSince(start);
        assertEquals(504, waiter.statusCode(), waiter.body());
        assertEquals("deadline_exceeded", errorCode(waiter));
        assertTrue(took >= 350 && took < 900, "left the queue at its own 0.4 s deadline: " + took + " ms");
        assertEquals(1, upstream.requests(), "the waiter never reached the upstream");
        assertEquals(0, lane(gateway, "single").path("waiting").path("total").asInt(), "and left the queue");

        assertEquals(504, holder.join().statusCode());
    }

    @Test
    void aStreamThatStartedEndsWithAnErrorEventAtTheDeadline() throws Exception {
        upstream.reply("one two three four five six seven eight nine ten eleven twelve").tokenDelayMs(200);
        long start = System.nanoTime();
        RawHttp.Response response = Calls.stream(gateway, "m");
        long took = millisSince(start);
        assertEquals(200, response.status);
        List<String> events = response.events();
        assertFalse(events.contains("[DONE]"), response.body);
        JsonNode error = Calls.lastEvent(response).path("error");
        assertEquals("deadline_exceeded", error.path("code").asText(), response.body);
        assertTrue(events.size() >= 3, "tokens flowed before the deadline: " + response.body);
        assertTrue(took >= 900 && took < 2500, "cut at the 1 s deadline: " + took + " ms");
        assertTrue(upstream.awaitClientAborts(1, Duration.ofSeconds(5)), "the upstream stream was aborted");
    }

    @Test
    void theHeaderOnlyLowersTheDeadline() {
        upstream.hangNext(1);
        long start = System.nanoTime();
        HttpResponse<String> response = chat(gateway, "m", "x-caravan-timeout-seconds", "30");
        assertEquals(504, response.statusCode(), response.body());
        assertTrue(millisSince(start) < 2500, "still the gateway's 1 s");

        HttpResponse<String> nonsense = chat(gateway, "m", "x-caravan-timeout-seconds", "soon");
        assertEquals(400, nonsense.statusCode(), nonsense.body());
        assertTrue(nonsense.body().contains("x-caravan-timeout-seconds"), nonsense.body());
    }
}
