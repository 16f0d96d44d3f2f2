package dev.caravan.lane;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.support.Await;
import dev.caravan.support.Calls;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.RawHttp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lane's one cap stays exact whatever way its calls end: answered, streamed to the end, failed over to a
 * fallback's lane, or left by their client mid-stream. Each slot is released once (in the lane's doFinally): a
 * release missed would shrink the lane for good, a release made twice would let more than max-concurrent calls
 * through afterwards.
 */
class LaneReleaseTest {

    static UpstreamEmulator gpu;
    static UpstreamEmulator spare;
    static GatewayInstance gateway;

    @BeforeAll
    static void start() {
        gpu = UpstreamEmulator.start();
        spare = UpstreamEmulator.start();
        gateway = GatewayInstance.builder().config("""
                backends:
                  gpu:
                    type: openai
                    url: "%s"
                    max-concurrent: 2
                    queue-size: 100
                    retry: {max-attempts: 1}
                    circuit-breaker: {minimum-calls: 1000, sliding-window-size: 1000}
                  spare: {type: openai, url: "%s", max-concurrent: 8, queue-size: 100}
                models:
                  m: {backend: gpu, fallbacks: [s]}
                  s: {backend: spare}
                """.formatted(gpu.baseUrl(), spare.baseUrl())).start();
    }

    @AfterAll
    static void stop() {
        gateway.close();
        gpu.close();
        spare.close();
    }

    @Test
    void theCapIsExactThroughAnswersStreamsFallbacksAndDepartures() throws Exception {
        gpu.tokenDelayMs(15).failNext(6, 500);
        spare.tokenDelayMs(15);
        List<CompletableFuture<HttpResponse<String>>> replies = new ArrayList<>();
        List<RawHttp> leaving = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            if (i % 8 == 7) {
                leaving.add(RawHttp.postJson(gateway.port(), "/v1/chat/completions", Calls.body("m", true)));
            } else {
                replies.add(Calls.sendAsync(gateway, Calls.chatRequest(gateway, Calls.body("m", i % 2 == 0, "hi"))
                        .timeout(Duration.ofSeconds(60))));
            }
        }
        for (RawHttp client : leaving) {
            client.readHead(); // admitted and streaming (or queued): then gone
            client.close();
        }
        for (CompletableFuture<HttpResponse<String>> reply : replies) {
            HttpResponse<String> response = reply.join();
            assertEquals(200, response.statusCode(), response.body());
        }
        assertTrue(gpu.maxInFlight() <= 2, "never more than max-concurrent at the gpu: " + gpu.maxInFlight());
        assertTrue(spare.requests() >= 6, "the failed calls went on to the fallback: " + spare.requests());
        Await.value("the gpu lane drained", () -> lane("gpu").path("in_flight").asInt(), n -> n == 0,
                Duration.ofSeconds(10));

        // and it still has exactly two slots: two calls in, the next two wait
        gpu.reset().firstTokenDelayMs(800);
        List<CompletableFuture<HttpResponse<String>>> held = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            held.add(Calls.sendAsync(gateway, Calls.chatRequest(gateway, Calls.body("m", false, "hi"))
                    .timeout(Duration.ofSeconds(30))));
        }
        Await.value("two in flight, two waiting", () -> lane("gpu").path("in_flight").asInt() + "/"
                + lane("gpu").path("waiting").path("total").asInt(), s -> s.equals("2/2"), Duration.ofSeconds(10));
        assertEquals(2, gpu.inFlight(), "the upstream sees the same two");
        for (CompletableFuture<HttpResponse<String>> reply : held) {
            assertEquals(200, reply.join().statusCode());
        }
        assertEquals(2, gpu.maxInFlight());
        assertEquals(4, gpu.requests());
    }

    private static JsonNode lane(String backend) {
        return Calls.lane(gateway, backend);
    }
}
