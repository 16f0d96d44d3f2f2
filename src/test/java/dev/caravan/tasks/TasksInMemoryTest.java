package dev.caravan.tasks;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.config.Priority;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.lane.LaneGate;
import dev.caravan.lane.LaneRegistry;
import dev.caravan.openai.Json;
import dev.caravan.support.Calls;
import dev.caravan.support.GatewayInstance;
import org.junit.jupiter.api.Test;

import static dev.caravan.tasks.TaskPolling.awaitStatus;
import static dev.caravan.tasks.TaskPolling.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tasks and the DLQ without Redis: the worker's SEDA queue, states and DLQ in memory. */
class TasksInMemoryTest extends TaskContract {

    @Override
    GatewayInstance.Builder store(GatewayInstance.Builder builder) {
        return builder;
    }

    @Test
    void tasksWaitInTheLaneBehindInteractiveRequests() throws Exception {
        try (UpstreamEmulator slow = UpstreamEmulator.start();
             GatewayInstance one = GatewayInstance.builder().config("""
                     backends:
                       gpu: {type: openai, url: "%s", max-concurrent: 1}
                     models:
                       m: {backend: gpu}
                     """.formatted(slow.baseUrl())).start()) {
            LaneGate lane = one.camel().getRegistry().lookupByNameAndType("lanes", LaneRegistry.class).gates().get("gpu");
            slow.firstTokenDelayMs(1000);
            CompletableFuture<HttpResponse<String>> first = send(one, "first");
            assertTrue(slow.awaitRequests(1, Duration.ofSeconds(10)), "the first request holds the lane's one slot");
            HttpResponse<String> accepted = post(one, "/tasks/enqueue", null, body("background"));
            assertEquals(202, accepted.statusCode(), accepted.body());
            assertTrue(UpstreamEmulator.await(() -> lane.waiting(Priority.LOW) == 1, Duration.ofSeconds(10)),
                    "the task waits in the lane at low priority");
            CompletableFuture<HttpResponse<String>> interactive = send(one, "interactive");
            assertTrue(UpstreamEmulator.await(() -> lane.waiting() == 2, Duration.ofSeconds(10)));
            slow.firstTokenDelayMs(0);
            assertEquals(200, first.get(30, TimeUnit.SECONDS).statusCode());
            assertEquals(200, interactive.get(30, TimeUnit.SECONDS).statusCode());
            String id = Json.MAPPER.readTree(accepted.body()).get("id").asText();
            assertEquals("done", awaitStatus(one, id, null, Set.of("done", "failed"), Duration.ofSeconds(30))
                    .get("status").asText());
            List<String> order = slow.requestBodies().stream()
                    .map(b -> b.getJsonArray("messages").getJsonObject(0).getString("content")).toList();
            assertEquals(List.of("first", "interactive", "background"), order,
                    "the interactive request that came after the task was served before it");
        }
    }

    private static String body(String content) {
        return Calls.body("m", content);
    }

    private static CompletableFuture<HttpResponse<String>> send(GatewayInstance gateway, String content) {
        return Calls.sendAsync(gateway, Calls.chatRequest(gateway, body(content)));
    }

    @Test
    void aFullQueueRefusesWith503AndEveryAcceptedTaskStillEnds() throws Exception {
        try (UpstreamEmulator slow = UpstreamEmulator.start();
             GatewayInstance small = builder(slow)
                     .property("gateway.task-workers", "1")
                     .property("gateway.task-queue-size", "1")
                     .start()) {
            slow.firstTokenDelayMs(1500);
            List<String> accepted = new ArrayList<>();
            HttpResponse<String> refused = null;
            // one runs, one waits for the worker slot, one waits in the queue of one: the next has no room
            for (int i = 0; i < 6 && refused == null; i++) {
                HttpResponse<String> response = post(small, "/tasks/enqueue", ALICE,
                        "{\"model\":\"task-model\",\"messages\":[{\"role\":\"user\",\"content\":\"n" + i + "\"}]}");
                if (response.statusCode() == 202) {
                    accepted.add(Json.MAPPER.readTree(response.body()).get("id").asText());
                } else {
                    refused = response;
                }
            }
            assertTrue(refused != null, "a queue of one took every task: " + accepted);
            assertEquals(503, refused.statusCode(), refused.body());
            assertTrue(refused.headers().firstValue("retry-after").isPresent(), refused.headers().toString());
            assertEquals("overloaded", Json.MAPPER.readTree(refused.body()).at("/error/code").asText());
            assertFalse(accepted.isEmpty());
            slow.firstTokenDelayMs(0);
            for (String id : accepted) {
                JsonNode task = awaitStatus(small, id, ALICE, Set.of("done", "failed"), Duration.ofSeconds(30));
                assertEquals("done", task.get("status").asText(), task.toString());
            }
        }
    }
}
