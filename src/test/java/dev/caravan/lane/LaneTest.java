package dev.caravan.lane;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.support.Calls;
import dev.caravan.support.EmulatedGateway;
import dev.caravan.support.RawHttp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static dev.caravan.support.Calls.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Lanes cap what reaches a backend: never more than max-concurrent calls in flight (counted by the upstream),
 * a bounded wait (503 with retry-after beyond it), and a client that leaves frees its slot at once.
 */
class LaneTest {

    @RegisterExtension
    static final EmulatedGateway env = EmulatedGateway.withEmulator(emulator -> """
            backends:
              wide: {type: openai, url: "%s", max-concurrent: 2, queue-size: 50}
              narrow: {type: openai, url: "%s", max-concurrent: 1, queue-size: 1, queue-timeout-seconds: 30}
              hurried: {type: openai, url: "%s", max-concurrent: 1, queue-size: 5, queue-timeout-seconds: 1}
            models:
              wide-model: {backend: wide}
              narrow-model: {backend: narrow}
              hurried-model: {backend: hurried}
            """.formatted(emulator.baseUrl(), emulator.extraBaseUrl(), emulator.extraBaseUrl()));

    @AfterEach
    void drained() {
        // every test leaves the lanes empty, or the next one would measure its leftovers
        assertTrue(UpstreamEmulator.await(() -> env.upstream().inFlight() == 0
                && lane("wide").path("in_flight").asInt() == 0 && lane("narrow").path("in_flight").asInt() == 0
                && lane("hurried").path("in_flight").asInt() == 0,
                Duration.ofSeconds(10)), "lanes did not drain");
    }

    @Test
    void neverMoreThanMaxConcurrentCallsReachTheUpstream() {
        env.upstream().tokenDelayMs(20);
        List<CompletableFuture<HttpResponse<String>>> replies = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            replies.add(sendAsync("wide-model", i % 2 == 0));
        }
        for (CompletableFuture<HttpResponse<String>> reply : replies) {
            assertEquals(200, reply.join().statusCode());
        }
        assertEquals(12, env.upstream().requests());
        assertEquals(2, env.upstream().maxInFlight(), "the lane's cap, as the upstream counted it");
    }

    @Test
    void aFullQueueAnswers503WithRetryAfterAtOnce() {
        env.upstream().firstTokenDelayMs(1500);
        CompletableFuture<HttpResponse<String>> busy = sendAsync("narrow-model", false);
        assertTrue(env.upstream().awaitInFlight(1, Duration.ofSeconds(5)));
        CompletableFuture<HttpResponse<String>> waiting = sendAsync("narrow-model", false);
        assertTrue(UpstreamEmulator.await(() -> lane("narrow").path("waiting").asInt() == 1, Duration.ofSeconds(5)));

        HttpResponse<String> rejected = sendAsync("narrow-model", false).join();
        assertEquals(503, rejected.statusCode());
        assertEquals("1", rejected.headers().firstValue("retry-after").orElseThrow());
        assertEquals("overloaded", json(rejected.body()).at("/error/code").asText());
        assertTrue(busy.isDone() == false, "the rejection did not wait for the busy slot");

        assertEquals(200, busy.join().statusCode());
        assertEquals(200, waiting.join().statusCode(), "the queued request is served once the slot frees");
        assertEquals(2, env.upstream().requests());
    }

    @Test
    void aWaitLongerThanTheQueueTimeoutAnswers503() {
        env.upstream().firstTokenDelayMs(3000);
        CompletableFuture<HttpResponse<String>> busy = sendAsync("hurried-model", false);
        assertTrue(env.upstream().awaitInFlight(1, Duration.ofSeconds(5)));
        long start = System.nanoTime();
        HttpResponse<String> timedOut = sendAsync("hurried-model", false).join();
        long waitedMillis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(503, timedOut.statusCode(), timedOut.body());
        assertTrue(waitedMillis >= 900, "waited its queue-timeout-seconds first: " + waitedMillis + " ms");
        assertEquals(200, busy.join().statusCode());
    }

    @Test
    void aClientThatLeavesAStreamFreesTheSlotAndAbortsTheUpstreamCall() throws Exception {
        env.upstream().tokenDelayMs(200);
        try (RawHttp client = RawHttp.postJson(env.gateway().port(), "/v1/chat/completions",
                "{\"model\":\"narrow-model\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")) {
            assertEquals(200, client.readHead().status);
            String line;
            do {
                line = client.readLine();
            } while (line != null && !line.contains("\"content\":\"Hello "));
            assertTrue(env.upstream().inFlight() == 1 && lane("narrow").path("in_flight").asInt() == 1);
        } // the client disconnects mid-stream
        assertTrue(env.upstream().awaitClientAborts(1, Duration.ofSeconds(5)), "the upstream call was aborted");
        assertTrue(UpstreamEmulator.await(() -> lane("narrow").path("in_flight").asInt() == 0, Duration.ofSeconds(5)),
                "the slot was freed");
        env.upstream().tokenDelayMs(0);
        assertEquals(200, sendAsync("narrow-model", false).join().statusCode(), "the freed slot serves the next");
    }

    @Test
    void aClientThatLeavesWhileQueuedLeavesTheQueue() throws Exception {
        env.upstream().firstTokenDelayMs(1500);
        CompletableFuture<HttpResponse<String>> busy = sendAsync("narrow-model", false);
        assertTrue(env.upstream().awaitInFlight(1, Duration.ofSeconds(5)));
        try (RawHttp queued = RawHttp.postJson(env.gateway().port(), "/v1/chat/completions",
                "{\"model\":\"narrow-model\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")) {
            assertTrue(UpstreamEmulator.await(() -> lane("narrow").path("waiting").asInt() == 1, Duration.ofSeconds(5)));
        }
        assertTrue(UpstreamEmulator.await(() -> lane("narrow").path("waiting").asInt() == 0, Duration.ofSeconds(5)),
                "the queue forgot the departed client");
        assertEquals(200, busy.join().statusCode());
        assertEquals(1, env.upstream().requests(), "the departed client's request never reached the upstream");
    }

    private static CompletableFuture<HttpResponse<String>> sendAsync(String model, boolean stream) {
        return Calls.sendAsync(env.gateway(), Calls.chatRequest(env.gateway(), Calls.body(model, stream, "hi"))
                .timeout(Duration.ofSeconds(30)));
    }

    private static JsonNode lane(String backend) {
        return json(env.gateway().get("/health").body()).at("/backends/" + backend + "/lane");
    }
}
