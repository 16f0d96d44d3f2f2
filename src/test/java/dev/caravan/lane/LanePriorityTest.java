package dev.caravan.lane;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.openai.Json;
import dev.caravan.support.Calls;
import dev.caravan.support.EmulatedGateway;
import dev.caravan.support.GatewayInstance;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Waiting requests are served high before normal before low, first come first served within a priority. */
class LanePriorityTest {

    @RegisterExtension
    static final EmulatedGateway env = EmulatedGateway.withEmulator(emulator -> """
            backends:
              gpu: {type: openai, url: "%s", max-concurrent: 1, queue-size: 10}
              tiny: {type: openai, url: "%s", max-concurrent: 1, queue-size: 2}
            models:
              m: {backend: gpu}
              t: {backend: tiny}
            """.formatted(emulator.baseUrl(), emulator.extraBaseUrl()));

    @Test
    void waitersAreServedByPriorityThenArrival() {
        env.upstream().firstTokenDelayMs(150);
        List<CompletableFuture<HttpResponse<String>>> replies = new ArrayList<>();
        replies.add(send("m", "blocker", null));
        assertTrue(env.upstream().awaitInFlight(1, Duration.ofSeconds(5)));
        String[][] arrivals = {{"low-1", "low"}, {"normal-1", "normal"}, {"high-1", "high"}, {"low-2", "low"},
            {"high-2", "HIGH"}, {"normal-2", null}};
        for (int i = 0; i < arrivals.length; i++) {
            replies.add(send("m", arrivals[i][0], arrivals[i][1]));
            int queued = i + 1;
            assertTrue(UpstreamEmulator.await(() -> waiting("gpu") == queued, Duration.ofSeconds(5)),
                    "request " + arrivals[i][0] + " is queued");
        }
        replies.forEach(reply -> assertEquals(200, reply.join().statusCode()));
        List<String> served = new ArrayList<>();
        for (JsonObject body : env.upstream().requestBodies()) {
            served.add(body.getJsonArray("messages").getJsonObject(0).getString("content"));
        }
        assertEquals(List.of("blocker", "high-1", "high-2", "normal-1", "normal-2", "low-1", "low-2"), served);
        assertEquals(1, env.upstream().maxInFlight());
    }

    @Test
    void aHigherPriorityRequestTakesTheNewestLowerPlaceInAFullQueue() {
        env.upstream().firstTokenDelayMs(300);
        CompletableFuture<HttpResponse<String>> blocker = send("t", "blocker", "high");
        assertTrue(env.upstream().awaitInFlight(1, Duration.ofSeconds(5)));
        CompletableFuture<HttpResponse<String>> low1 = send("t", "low-1", "low");
        assertTrue(UpstreamEmulator.await(() -> waiting("tiny") == 1, Duration.ofSeconds(5)));
        CompletableFuture<HttpResponse<String>> low2 = send("t", "low-2", "low");
        assertTrue(UpstreamEmulator.await(() -> waiting("tiny") == 2, Duration.ofSeconds(5)));

        HttpResponse<String> sameTier = send("t", "low-3", "low").join();
        assertEquals(503, sameTier.statusCode(), "a full queue refuses an equal priority");

        CompletableFuture<HttpResponse<String>> high = send("t", "high-1", "high");
        HttpResponse<String> evicted = low2.join();
        assertEquals(503, evicted.statusCode(), "the newest low-priority waiter gave up its place");
        assertTrue(evicted.body().contains("higher priority"), evicted.body());
        assertEquals(200, blocker.join().statusCode());
        assertEquals(200, high.join().statusCode());
        assertEquals(200, low1.join().statusCode());
    }

    @Test
    void theLanesViewShowsSlotsWaitersAndWaits() throws Exception {
        JsonNode lanes = Json.MAPPER.readTree(env.gateway().get("/v1/lanes").body());
        assertEquals("list", lanes.get("object").asText());
        JsonNode gpu = null;
        for (JsonNode lane : lanes.get("data")) {
            if (lane.get("backend").asText().equals("gpu")) {
                gpu = lane;
            }
        }
        assertEquals(1, gpu.get("max_concurrent").asInt());
        assertEquals(10, gpu.get("queue_size").asInt());
        assertEquals(0, gpu.at("/waiting/total").asInt());
        assertTrue(gpu.at("/wait_ms/p99").isNumber());
        assertTrue(gpu.has("in_flight") && gpu.has("admitted") && gpu.has("rejected"));
    }

    private static int waiting(String backend) {
        return Calls.lane(env.gateway(), backend).at("/waiting/total").asInt(-1);
    }

    private static CompletableFuture<HttpResponse<String>> send(String model, String content, String priority) {
        GatewayInstance gateway = env.gateway();
        return Calls.sendAsync(gateway, Calls.chatRequest(gateway, Calls.body(model, content), "x-priority", priority)
                .timeout(Duration.ofSeconds(30)));
    }
}
