package dev.caravan.tasks;

import java.time.Duration;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.openai.Json;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import static dev.caravan.tasks.TaskPolling.awaitStatus;
import static dev.caravan.tasks.TaskPolling.get;
import static dev.caravan.tasks.TaskPolling.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Tasks and the DLQ in a real Redis, shared by every instance on it. */
class TasksInRedisTest extends TaskContract {

    RedisServer redis;

    @Override
    GatewayInstance.Builder store(GatewayInstance.Builder builder) {
        if (redis == null) {
            redis = RedisServer.start();
        }
        return builder.property("gateway.redis-url", redis.url());
    }

    @AfterAll
    void stopRedis() {
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void replayMarksLeaveWithTheirEntries() throws Exception {
        String id = failedRequest("marked then dropped " + java.util.UUID.randomUUID());
        upstream.failNext(0, 500);
        var replay = post(gateway, "/tasks/dlq/" + id + "/replay", ADMIN, "");
        assertEquals(202, replay.statusCode(), replay.body());
        awaitStatus(gateway, Json.MAPPER.readTree(replay.body()).get("id").asText(), ALICE, Set.of("done", "failed"),
                Duration.ofSeconds(30));
        org.junit.jupiter.api.Assertions.assertTrue(redisInteger("HLEN", "caravan:dlq:replays") >= 1);
        // DLQ_SIZE newer failures push every older entry out of the capped list: their marks go too
        upstream.failNext(100_000, 502);
        for (int i = 0; i < DLQ_SIZE; i++) {
            assertEquals(502, post(gateway, "/v1/chat/completions", BOB,
                    "{\"model\":\"task-model\",\"messages\":[{\"role\":\"user\",\"content\":\"push " + i + "\"}]}")
                    .statusCode());
        }
        assertEquals(DLQ_SIZE, redisInteger("LLEN", "caravan:dlq"));
        assertEquals(0, redisInteger("HLEN", "caravan:dlq:replays"), "no mark outlives its entry");
    }

    /** A Redis command with one key argument and an integer reply, over RESP on a plain socket. */
    private long redisInteger(String command, String key) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", redis.port())) {
            socket.setSoTimeout(5000);
            String request = "*2\r\n$" + command.length() + "\r\n" + command + "\r\n$" + key.length() + "\r\n" + key
                    + "\r\n";
            socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String reply = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
                    java.nio.charset.StandardCharsets.US_ASCII)).readLine();
            org.junit.jupiter.api.Assertions.assertTrue(reply.startsWith(":"), reply);
            return Long.parseLong(reply.substring(1));
        }
    }

    @Test
    void instancesShareOneQueueStatesAndDlq() throws Exception {
        // an instance that only accepts tasks: another instance's worker runs them
        try (GatewayInstance acceptOnly = store(builder(upstream))
                .property("gateway.task-worker-enabled", "false").start()) {
            var accepted = post(acceptOnly, "/tasks/enqueue", ALICE,
                    "{\"model\":\"task-model\",\"messages\":[{\"role\":\"user\",\"content\":\"shared\"}]}");
            assertEquals(202, accepted.statusCode(), accepted.body());
            String id = Json.MAPPER.readTree(accepted.body()).get("id").asText();
            JsonNode done = awaitStatus(acceptOnly, id, ALICE, Set.of("done", "failed"), Duration.ofSeconds(30));
            assertEquals("done", done.get("status").asText(), done.toString());
            assertEquals(done.toString(), Json.MAPPER.readTree(get(gateway, "/tasks/" + id, ALICE).body()).toString());
            assertEquals(get(gateway, "/tasks/dlq", ADMIN).body(), get(acceptOnly, "/tasks/dlq", ADMIN).body());
        }
    }

    @Test
    void aCallbackIsCheckedAgainWhenSent() throws Exception {
        // the instance that accepts lists all of 127/8; the one that runs the task (and sends its callback) lists
        // only 127.0.0.1, as if the destination's address had changed between enqueue and send
        try (CallbackReceiver elsewhere = new CallbackReceiver("127.0.0.2");
             GatewayInstance acceptOnly = store(builder(upstream))
                     .property("gateway.task-worker-enabled", "false")
                     .property("gateway.callback-allowed-hosts", "127.0.0.0/8").start()) {
            String refused = enqueued(acceptOnly, elsewhere.url("/refused"));
            String sent = enqueued(acceptOnly, callbacks.url("/sent"));
            for (String id : new String[] {refused, sent}) {
                JsonNode done = awaitStatus(acceptOnly, id, ALICE, Set.of("done", "failed"), Duration.ofSeconds(30));
                assertEquals("done", done.get("status").asText(), done.toString());
            }
            assertNotNull(callbacks.await("/sent", 10_000), "the worker sends the callbacks it may");
            assertNull(elsewhere.await("/refused", 1_000), "the worker refused the callback its list does not allow");
        }
    }

    private static String enqueued(GatewayInstance gateway, String callbackUrl) throws Exception {
        var accepted = post(gateway, "/tasks/enqueue", ALICE, ("{\"model\":\"task-model\",\"callback_url\":\"%s\","
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}").formatted(callbackUrl));
        assertEquals(202, accepted.statusCode(), accepted.body());
        return Json.MAPPER.readTree(accepted.body()).get("id").asText();
    }
}
