package dev.caravan.tasks;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.openai.Json;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.GatewayProcess;
import dev.caravan.support.RedisServer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * An accepted task is not lost when the instance running it is killed with SIGKILL: a gateway in a JVM of its own
 * takes tasks from Redis while the upstream holds them; it is killed (Process.destroyForcibly: kill -9, no
 * shutdown hook, no goodbye to Redis); a second instance on the same Redis puts the tasks whose lease ran out
 * back in the queue and runs every one of them to done.
 */
class TaskFailoverTest {

    private static final Duration DEADLINE = Duration.ofSeconds(30);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void tasksOfAnInstanceKilledWithSigkillEndDoneOnAnother() throws Exception {
        try (RedisServer redis = RedisServer.start(); UpstreamEmulator upstream = UpstreamEmulator.start()) {
            upstream.firstTokenDelayMs(120_000); // the tasks stay in flight at the upstream until the kill
            String yaml = """
                    backends:
                      emu: {type: openai, url: "%s", max-concurrent: 8}
                    models:
                      slow-model: {backend: emu}
                    """.formatted(upstream.baseUrl());
            GatewayProcess first = GatewayProcess.start(yaml, Map.of("REDIS_URL", redis.url(),
                    "GATEWAY_TASK_LEASE_SECONDS", "2", "GATEWAY_TASK_REAPER_MS", "500"));
            int port = first.port();
            List<String> ids = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    HttpResponse<String> accepted = http.send(HttpRequest.newBuilder(uri(port, "/tasks/enqueue"))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"slow-model\",\"messages\":"
                                    + "[{\"role\":\"user\",\"content\":\"survive " + i + "\"}]}"))
                            .build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(202, accepted.statusCode(), accepted.body());
                    ids.add(Json.MAPPER.readTree(accepted.body()).get("id").asText());
                }
                String running = awaitRunning(port, ids);
                assertTrue(upstream.awaitRequests(1, DEADLINE), "no task reached the upstream");

                first.kill(); // SIGKILL
                upstream.firstTokenDelayMs(0);

                try (GatewayInstance second = GatewayInstance.builder().config(yaml)
                        .property("gateway.redis-url", redis.url())
                        .property("gateway.task-lease-seconds", "2")
                        .property("gateway.task-reaper-ms", "500")
                        .start()) {
                    for (String id : ids) {
                        JsonNode task = TaskPolling.awaitStatus(second, id, null, Set.of("done", "failed"), DEADLINE);
                        assertEquals("done", task.get("status").asText(), task.toString());
                        assertEquals(UpstreamEmulator.DEFAULT_REPLY,
                                task.at("/result/choices/0/message/content").asText());
                        if (id.equals(running)) {
                            assertTrue(task.get("attempts").asInt() >= 2,
                                    "the task that was running when the instance died ran again: " + task);
                        }
                    }
                    JsonNode dlq = Json.MAPPER.readTree(TaskPolling.get(second, "/tasks/dlq", null).body());
                    assertEquals(0, dlq.get("data").size(), dlq.toString());
                }
            } finally {
                first.close();
            }
            assertFalse(ids.isEmpty());
        }
    }

    /** Waits until one of the tasks is running on the first instance; returns its id. */
    private String awaitRunning(int port, List<String> ids) throws Exception {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (System.nanoTime() < deadline) {
            for (String id : ids) {
                HttpResponse<String> task = http.send(HttpRequest.newBuilder(uri(port, "/tasks/" + id)).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                if (task.statusCode() == 200 && "running".equals(Json.MAPPER.readTree(task.body()).get("status").asText())) {
                    return id;
                }
            }
            LockSupport.parkNanos(20_000_000);
        }
        return fail("no task was running within " + DEADLINE);
    }

    private static URI uri(int port, String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }
}
