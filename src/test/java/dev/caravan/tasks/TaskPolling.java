package dev.caravan.tasks;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.openai.Json;
import dev.caravan.support.GatewayInstance;

import static org.junit.jupiter.api.Assertions.fail;

/** Waits for task states over HTTP, polling every 20 ms up to a deadline: on state, never on a guessed sleep. */
final class TaskPolling {

    private TaskPolling() {
    }

    static HttpResponse<String> get(GatewayInstance gateway, String path, String key) {
        HttpRequest.Builder request = HttpRequest.newBuilder(gateway.uri(path)).GET();
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return gateway.send(request.build());
    }

    static HttpResponse<String> post(GatewayInstance gateway, String path, String key, String json) {
        HttpRequest.Builder request = HttpRequest.newBuilder(gateway.uri(path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return gateway.send(request.build());
    }

    /** GET /tasks/{id} until its status is one of {@code statuses}; fails the test at the deadline. */
    static JsonNode awaitStatus(GatewayInstance gateway, String id, String key, Set<String> statuses, Duration timeout)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = null;
        while (System.nanoTime() < deadline) {
            HttpResponse<String> response = get(gateway, "/tasks/" + id, key);
            last = response.statusCode() + " " + response.body();
            if (response.statusCode() == 200) {
                JsonNode task = Json.MAPPER.readTree(response.body());
                if (statuses.contains(task.path("status").asText())) {
                    return task;
                }
            }
            LockSupport.parkNanos(20_000_000);
        }
        return fail("task " + id + " did not reach " + statuses + " within " + timeout + "; last: " + last);
    }
}
