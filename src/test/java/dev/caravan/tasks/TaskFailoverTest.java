package dev.caravan.tasks;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.CaravanMain;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.openai.Json;
import dev.caravan.support.GatewayInstance;
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
            Path config = Files.createTempFile("caravan-failover", ".yaml");
            Files.writeString(config, yaml);
            Path log = Files.createTempFile("caravan-failover", ".log");
            int port = GatewayInstance.freePort();
            Process first = startGatewayProcess(port, redis.url(), config, log);
            List<String> ids = new ArrayList<>();
            try {
                awaitHealthy(port, first, log);
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

                first.destroyForcibly(); // SIGKILL
                assertTrue(first.waitFor(10, TimeUnit.SECONDS), "the first gateway did not die");
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
                if (first.isAlive()) {
                    first.destroyForcibly();
                }
                Files.deleteIfExists(config);
            }
            assertFalse(ids.isEmpty());
        }
    }

    /** The gateway as an operator runs it: its own JVM, configured by environment variables only. */
    private static Process startGatewayProcess(int port, String redisUrl, Path config, Path log) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                CaravanMain.class.getName())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> env = builder.environment();
        env.put("PORT", Integer.toString(port));
        env.put("HOST", "127.0.0.1");
        env.put("MANAGEMENT_PORT", Integer.toString(GatewayInstance.freePort()));
        env.put("REDIS_URL", redisUrl);
        env.put("GATEWAY_CONFIG", config.toString());
        env.put("LOG_LEVEL", "WARN");
        env.put("ROUTES_RELOAD", "false");
        env.put("EVENT_LOOPS", "1");
        env.put("GATEWAY_TASK_LEASE_SECONDS", "2");
        env.put("GATEWAY_TASK_REAPER_MS", "500");
        return builder.start();
    }

    private void awaitHealthy(int port, Process process, Path log) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                fail("the gateway process exited with " + process.exitValue() + ":\n" + Files.readString(log));
            }
            try {
                HttpResponse<String> health = http.send(HttpRequest.newBuilder(uri(port, "/health")).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                if (health.statusCode() == 200 && health.body().contains("\"emu\"")) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            LockSupport.parkNanos(100_000_000);
        }
        fail("the gateway process did not become healthy within 60 s:\n" + Files.readString(log));
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
