package dev.caravan.tasks;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.openai.Json;
import dev.caravan.support.GatewayInstance;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static dev.caravan.tasks.TaskPolling.awaitStatus;
import static dev.caravan.tasks.TaskPolling.get;
import static dev.caravan.tasks.TaskPolling.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What background tasks and the DLQ promise, whatever holds them (memory, Redis): real HTTP against a gateway with
 * keys (alice, bob) and an admin key, an OpenAI-compatible emulator upstream, a callback receiver.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class TaskContract {

    static final String ALICE = "alice-key-0123456789";
    static final String BOB = "bob-key-0123456789";
    static final String ADMIN = "admin-key-0123456789";
    static final Duration DEADLINE = Duration.ofSeconds(30);
    static final int DLQ_SIZE = 5;

    UpstreamEmulator upstream;
    GatewayInstance gateway;
    CallbackReceiver callbacks;

    /** Adds what this store needs (e.g. gateway.redis-url) to a gateway being built. */
    abstract GatewayInstance.Builder store(GatewayInstance.Builder builder);

    @BeforeAll
    void start() {
        upstream = UpstreamEmulator.start();
        callbacks = new CallbackReceiver();
        gateway = store(builder(upstream)).start();
    }

    @AfterAll
    void stop() {
        gateway.close();
        upstream.close();
        callbacks.close();
    }

    @BeforeEach
    void healthyUpstream() {
        upstream.reset();
    }

    static GatewayInstance.Builder builder(UpstreamEmulator upstream) {
        return GatewayInstance.builder().config("""
                        backends:
                          emu: {type: openai, url: "%s"}
                        models:
                          task-model: {backend: emu}
                        keys:
                          - {key: %s, name: alice, models: ["*"]}
                          - {key: %s, name: bob, models: ["*"]}
                        """.formatted(upstream.baseUrl(), ALICE, BOB))
                .property("gateway.admin-api-key", ADMIN)
                // the callback receiver listens on loopback, which callbacks may only reach when it is listed
                .property("gateway.callback-allowed-hosts", "127.0.0.1")
                .property("gateway.retry.max-attempts", "2")
                .property("gateway.retry.base-delay-ms", "1")
                .property("gateway.retry.max-delay-ms", "5")
                // the circuit breaker is another test's subject: here it must not open on the failures we make
                .property("gateway.circuit.sliding-window-size", "10000")
                .property("gateway.circuit.minimum-calls", "10000")
                .property("gateway.task-retry-backoff-ms", "50")
                .property("gateway.task-max-attempts", "3")
                .property("gateway.dlq-size", Integer.toString(DLQ_SIZE));
    }

    @Test
    void anEnqueuedTaskRunsThroughThePipelineToDone() throws Exception {
        HttpResponse<String> accepted = post(gateway, "/tasks/enqueue", ALICE, """
                {"model":"task-model","stream":true,"stream_options":{"include_usage":true},
                 "callback_url":"%s","messages":[{"role":"user","content":"a background question"}]}"""
                .formatted(callbacks.url("/done")));
        assertEquals(202, accepted.statusCode(), accepted.body());
        JsonNode task = Json.MAPPER.readTree(accepted.body());
        String id = task.get("id").asText();
        assertTrue(id.startsWith("task_"), id);
        assertEquals("queued", task.get("status").asText());
        assertEquals("/tasks/" + id, accepted.headers().firstValue("location").orElse(null));

        JsonNode done = awaitStatus(gateway, id, ALICE, Set.of("done", "failed"), DEADLINE);
        assertEquals("done", done.get("status").asText(), done.toString());
        assertEquals("chat.completion", done.at("/result/object").asText(), done.toString());
        assertEquals(UpstreamEmulator.DEFAULT_REPLY, done.at("/result/choices/0/message/content").asText());
        assertTrue(done.get("error").isNull(), done.toString());

        // what reached the upstream: the task's request as JSON, never a stream, without the callback
        io.vertx.core.json.JsonObject sent = upstream.lastRequestBody();
        assertEquals(false, sent.getBoolean("stream"));
        assertFalse(sent.containsKey("callback_url"), sent.encode());
        assertEquals("a background question",
                sent.getJsonArray("messages").getJsonObject(0).getString("content"));
        assertTrue(upstream.lastRequestHeaders().getOrDefault("x-request-id", "").startsWith(id),
                upstream.lastRequestHeaders().toString());

        CallbackReceiver.Call call = callbacks.await("/done", 10_000);
        assertNotNull(call, "the callback_url received the finished task");
        assertEquals(id, call.body().get("id").asText());
        assertEquals("done", call.body().get("status").asText());
        assertEquals(UpstreamEmulator.DEFAULT_REPLY, call.body().at("/result/choices/0/message/content").asText());

        // a key sees its own tasks only; no key at all is a 401
        assertEquals(404, get(gateway, "/tasks/" + id, BOB).statusCode());
        assertEquals(401, get(gateway, "/tasks/" + id, null).statusCode());
        assertEquals(404, get(gateway, "/tasks/task_unknown", ALICE).statusCode());
    }

    @Test
    void badInputIsRefusedAtEnqueue() throws Exception {
        HttpResponse<String> noMessages = post(gateway, "/tasks/enqueue", ALICE, "{\"model\":\"task-model\"}");
        assertEquals(400, noMessages.statusCode(), noMessages.body());
        assertEquals("messages", Json.MAPPER.readTree(noMessages.body()).at("/error/param").asText());

        HttpResponse<String> notJson = post(gateway, "/tasks/enqueue", ALICE, "{\"model\":");
        assertEquals(400, notJson.statusCode(), notJson.body());

        HttpResponse<String> unknownModel = post(gateway, "/tasks/enqueue", ALICE,
                "{\"model\":\"no-such-model\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(404, unknownModel.statusCode(), unknownModel.body());
        assertEquals("model_not_found", Json.MAPPER.readTree(unknownModel.body()).at("/error/code").asText());

        HttpResponse<String> badCallback = post(gateway, "/tasks/enqueue", ALICE,
                "{\"model\":\"task-model\",\"callback_url\":\"ftp://example.com/x\","
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(400, badCallback.statusCode(), badCallback.body());
        assertEquals("callback_url", Json.MAPPER.readTree(badCallback.body()).at("/error/param").asText());

        HttpResponse<String> noKey = post(gateway, "/tasks/enqueue", null,
                "{\"model\":\"task-model\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(401, noKey.statusCode(), noKey.body());
        assertEquals(0, upstream.requests(), "nothing refused at enqueue reached the upstream");
    }

    @Test
    void aTaskThatKeepsFailingIsRetriedThenFailsIntoTheDlq() throws Exception {
        upstream.failNext(100_000, 503);
        String marker = "doomed " + UUID.randomUUID();
        HttpResponse<String> accepted = post(gateway, "/tasks/enqueue", ALICE, """
                {"model":"task-model","callback_url":"%s",
                 "messages":[{"role":"user","content":"%s"}]}"""
                .formatted(callbacks.urlWithCredentials("hook", "s3cret", "/failed?token=t0ken"), marker));
        assertEquals(202, accepted.statusCode(), accepted.body());
        String id = Json.MAPPER.readTree(accepted.body()).get("id").asText();

        JsonNode failed = awaitStatus(gateway, id, ALICE, Set.of("done", "failed"), DEADLINE);
        assertEquals("failed", failed.get("status").asText(), failed.toString());
        assertEquals("upstream_error", failed.at("/error/type").asText(), failed.toString());
        assertEquals(3, failed.get("attempts").asInt(), failed.toString());
        assertTrue(failed.get("result").isNull());
        assertEquals(3 * 2, upstream.requests(), "3 task attempts of 2 upstream calls each");

        CallbackReceiver.Call call = callbacks.await("/failed", 10_000);
        assertNotNull(call, "the callback_url received the failed task");
        assertEquals("failed", call.body().get("status").asText());
        assertEquals("Basic " + Base64.getEncoder().encodeToString("hook:s3cret".getBytes()),
                call.headers().get("authorization"), "credentials in the callback URL become Basic auth");

        JsonNode entry = deadLetter(marker);
        assertEquals("alice", entry.get("key_name").asText());
        assertEquals("task-model", entry.get("model").asText());
        assertEquals("emu", entry.get("backend").asText());
        assertEquals(3, entry.get("attempts").asInt());
        assertEquals("upstream_error", entry.at("/error/type").asText(), entry.toString());
        assertTrue(entry.get("id").asText().startsWith("dlq_"));
        assertTrue(Math.abs(entry.get("created").asLong() - System.currentTimeMillis() / 1000) < 120);
        assertFalse(entry.get("request").has("callback_url"), "a callback URL with credentials is not kept");
        assertFalse(entry.toString().contains("s3cret") || entry.toString().contains("t0ken"), entry.toString());

        // the DLQ is the admin's: a normal key gets 403, none 401
        assertEquals(403, get(gateway, "/tasks/dlq", ALICE).statusCode());
        assertEquals(401, get(gateway, "/tasks/dlq", null).statusCode());
    }

    @Test
    void aFailedRequestIsKeptWithoutSecretsAndReplaysAsATask() throws Exception {
        upstream.failNext(100_000, 500);
        String marker = "replay me " + UUID.randomUUID();
        HttpResponse<String> failed = post(gateway, "/v1/chat/completions", ALICE, """
                {"model":"task-model","api_key":"sk-leaked-1","metadata":{"Authorization":"Bearer leaked-2","tag":"t"},
                 "messages":[{"role":"user","content":"%s"}]}""".formatted(marker));
        assertEquals(502, failed.statusCode(), failed.body());
        assertEquals("upstream_error", Json.MAPPER.readTree(failed.body()).at("/error/type").asText());

        JsonNode entry = deadLetter(marker);
        assertEquals("alice", entry.get("key_name").asText());
        assertEquals("task-model", entry.get("model").asText());
        assertEquals("emu", entry.get("backend").asText());
        assertEquals(2, entry.get("attempts").asInt(), "upstream calls made (gateway.retry.max-attempts)");
        assertEquals(2, upstream.requests());
        assertFalse(entry.get("request").has("api_key"), entry.toString());
        assertFalse(entry.toString().contains("leaked"), entry.toString());
        assertEquals("t", entry.at("/request/metadata/tag").asText(), "the rest of the request is kept");
        assertEquals(Set.of("id", "created", "key_name", "model", "backend", "error", "attempts", "request",
                "replayed_at", "replay_task_id"), fieldNames(entry));
        assertTrue(entry.get("replayed_at").isNull() && entry.get("replay_task_id").isNull(), entry.toString());

        upstream.failNext(0, 500); // healthy again
        HttpResponse<String> replay = post(gateway, "/tasks/dlq/" + entry.get("id").asText() + "/replay", ADMIN, "");
        assertEquals(202, replay.statusCode(), replay.body());
        JsonNode task = Json.MAPPER.readTree(replay.body());
        assertEquals("queued", task.get("status").asText());
        String id = task.get("id").asText();
        assertTrue(id.startsWith("task_"), id);

        // the replayed task belongs to the key that sent the request
        JsonNode done = awaitStatus(gateway, id, ALICE, Set.of("done", "failed"), DEADLINE);
        assertEquals("done", done.get("status").asText(), done.toString());
        assertEquals(UpstreamEmulator.DEFAULT_REPLY, done.at("/result/choices/0/message/content").asText());
        assertEquals(marker, upstream.lastRequestBody().getJsonArray("messages").getJsonObject(0).getString("content"));
        assertEquals(404, get(gateway, "/tasks/" + id, BOB).statusCode());

        HttpResponse<String> unknown = post(gateway, "/tasks/dlq/dlq_nope/replay", ADMIN, "");
        assertEquals(404, unknown.statusCode(), unknown.body());
        assertEquals("invalid_request_error", Json.MAPPER.readTree(unknown.body()).at("/error/type").asText());
        assertEquals(403, post(gateway, "/tasks/dlq/" + entry.get("id").asText() + "/replay", ALICE, "").statusCode());
    }

    /** Credentials an upstream might echo in its error text, each in a form the scrubber must recognise. */
    static final List<String> ECHOED_SECRETS = List.of("sk-proj-Abc123def456GHI789", "eyJhbGciOiJIUzI1NiJ9.payload-part",
            "AIzaSyD-0123456789abcdefXYZ", "5f2b8c1e9a7d4b3f6e0c2a8d9b1f7e4c", "hunter2-password", "alice-key-0123456789",
            "dXNlcjpwYXNzd29yZA==", "s3cr3tUser:pa55word");

    @Test
    void secretsAreScrubbedFromUpstreamErrorsAndFromKeptRequestsAtAnyDepth() throws Exception {
        upstream.failNext(100_000, 500).failMessage("Incorrect API key provided: sk-proj-Abc123def456GHI789. "
                + "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload-part was refused for "
                + "https://gen.example/v1?key=AIzaSyD-0123456789abcdefXYZ (trace 5f2b8c1e9a7d4b3f6e0c2a8d9b1f7e4c); "
                + "\"password\": \"hunter2-password\", x-api-key=alice-key-0123456789, "
                + "authorization: Basic dXNlcjpwYXNzd29yZA==, proxy https://s3cr3tUser:pa55word@proxy.example/");
        String marker = "secret-laden " + UUID.randomUUID();
        HttpResponse<String> failed = post(gateway, "/v1/chat/completions", ALICE, """
                {"model":"task-model","messages":[{"role":"user","content":"%s"}],"max_tokens":10,
                 "prompt_cache_key":"kept-cache-key",
                 "metadata":{"access_key":"leak-a","tag":"kept","Passphrase":"leak-e","X-Api-Key":"leak-f",
                   "nested":{"client_secret":"leak-b","list":[{"password":"leak-c"},{"private_key":"leak-d"}]},
                   "refresh_token":"leak-g","Cookie":"leak-h","credential":"leak-i","key":"leak-j",
                   "headers":{"Authorization":"Bearer leak-k","X-Other":"kept-header"}}}""".formatted(marker));
        assertEquals(502, failed.statusCode(), failed.body());
        String message = Json.MAPPER.readTree(failed.body()).at("/error/message").asText();
        assertTrue(message.contains("Incorrect API key provided"), "the upstream's words stay: " + message);
        for (String secret : ECHOED_SECRETS) {
            assertFalse(failed.body().contains(secret), "the client got " + secret + ": " + failed.body());
        }

        JsonNode entry = deadLetter(marker);
        String kept = entry.toString();
        assertFalse(kept.contains("leak-"), "a secret-named field was kept: " + kept);
        for (String secret : ECHOED_SECRETS) {
            assertFalse(kept.contains(secret), "the DLQ kept " + secret + ": " + kept);
        }
        assertTrue(entry.at("/error/message").asText().contains("Incorrect API key provided"), kept);
        assertEquals("kept", entry.at("/request/metadata/tag").asText(), kept);
        assertEquals("kept-header", entry.at("/request/metadata/headers/X-Other").asText(), kept);
        assertEquals("kept-cache-key", entry.at("/request/prompt_cache_key").asText(), "a request parameter is kept");
        assertEquals(10, entry.at("/request/max_tokens").asInt(), kept);
    }

    @Test
    void theDlqKeepsTheNewestEntriesFirst() throws Exception {
        upstream.failNext(100_000, 502);
        List<String> markers = new ArrayList<>();
        for (int i = 0; i < DLQ_SIZE + 2; i++) {
            String marker = "bounded " + i + " " + UUID.randomUUID();
            markers.add(marker);
            assertEquals(502, post(gateway, "/v1/chat/completions", BOB,
                    "{\"model\":\"task-model\",\"messages\":[{\"role\":\"user\",\"content\":\"" + marker + "\"}]}")
                    .statusCode());
        }
        JsonNode data = Json.MAPPER.readTree(get(gateway, "/tasks/dlq", ADMIN).body()).get("data");
        assertEquals(DLQ_SIZE, data.size(), "the DLQ holds the newest gateway.dlq-size entries");
        for (int i = 0; i < DLQ_SIZE; i++) {
            assertEquals(markers.get(markers.size() - 1 - i), data.get(i).at("/request/messages/0/content").asText());
            assertEquals("bob", data.get(i).get("key_name").asText());
        }
    }

    @Test
    void aReplayIsRecordedAndASecondOneNeedsForce() throws Exception {
        String id = failedRequest("replayed once " + UUID.randomUUID());
        upstream.failNext(0, 500); // healthy again

        HttpResponse<String> first = post(gateway, "/tasks/dlq/" + id + "/replay", ADMIN, "");
        assertEquals(202, first.statusCode(), first.body());
        String firstTask = Json.MAPPER.readTree(first.body()).get("id").asText();
        JsonNode entry = deadLetterById(id);
        assertEquals(firstTask, entry.get("replay_task_id").asText(), entry.toString());
        assertTrue(Math.abs(entry.get("replayed_at").asLong() - System.currentTimeMillis() / 1000) < 120, entry.toString());

        HttpResponse<String> again = post(gateway, "/tasks/dlq/" + id + "/replay", ADMIN, "");
        assertEquals(409, again.statusCode(), again.body());
        JsonNode error = Json.MAPPER.readTree(again.body()).get("error");
        assertEquals("dlq_entry_already_replayed", error.get("code").asText(), again.body());
        assertTrue(error.get("message").asText().contains(firstTask), "the 409 names the earlier task: " + again.body());
        assertEquals(firstTask, deadLetterById(id).get("replay_task_id").asText(), "a refused replay changes nothing");

        HttpResponse<String> forced = post(gateway, "/tasks/dlq/" + id + "/replay?force=true", ADMIN, "");
        assertEquals(202, forced.statusCode(), forced.body());
        String forcedTask = Json.MAPPER.readTree(forced.body()).get("id").asText();
        assertFalse(forcedTask.equals(firstTask));
        assertEquals(forcedTask, deadLetterById(id).get("replay_task_id").asText());
        for (String task : List.of(firstTask, forcedTask)) {
            assertEquals("done", awaitStatus(gateway, task, ALICE, Set.of("done", "failed"), DEADLINE)
                    .get("status").asText());
        }
    }

    @Test
    void replaysAtOnceRunTheRequestOnce() throws Exception {
        String id = failedRequest("raced " + UUID.randomUUID());
        upstream.failNext(0, 500);
        List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> replays = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            replays.add(gateway.http().sendAsync(java.net.http.HttpRequest.newBuilder(
                            gateway.uri("/tasks/dlq/" + id + "/replay"))
                    .header("Authorization", "Bearer " + ADMIN)
                    .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        List<Integer> statuses = new ArrayList<>();
        for (var replay : replays) {
            statuses.add(replay.get(30, java.util.concurrent.TimeUnit.SECONDS).statusCode());
        }
        assertEquals(1, statuses.stream().filter(s -> s == 202).count(), statuses.toString());
        assertEquals(7, statuses.stream().filter(s -> s == 409).count(), statuses.toString());
        String task = deadLetterById(id).get("replay_task_id").asText();
        assertEquals("done", awaitStatus(gateway, task, ALICE, Set.of("done", "failed"), DEADLINE).get("status").asText());
    }

    @Test
    void theAdminDeletesADeadLetter() throws Exception {
        String id = failedRequest("deleted " + UUID.randomUUID());
        assertEquals(403, delete("/tasks/dlq/" + id, ALICE).statusCode());
        assertEquals(401, delete("/tasks/dlq/" + id, null).statusCode());
        HttpResponse<String> deleted = delete("/tasks/dlq/" + id, ADMIN);
        assertEquals(200, deleted.statusCode(), deleted.body());
        JsonNode body = Json.MAPPER.readTree(deleted.body());
        assertEquals(id, body.get("id").asText());
        assertTrue(body.get("deleted").asBoolean(), deleted.body());
        for (JsonNode entry : Json.MAPPER.readTree(get(gateway, "/tasks/dlq", ADMIN).body()).get("data")) {
            assertFalse(id.equals(entry.get("id").asText()), "the entry is gone from the list");
        }
        HttpResponse<String> again = delete("/tasks/dlq/" + id, ADMIN);
        assertEquals(404, again.statusCode(), again.body());
        assertEquals("dlq_entry_not_found", Json.MAPPER.readTree(again.body()).at("/error/code").asText());
        assertEquals(404, post(gateway, "/tasks/dlq/" + id + "/replay", ADMIN, "").statusCode());
        assertEquals(404, delete("/tasks/dlq/dlq_nope", ADMIN).statusCode());
        assertEquals(404, delete("/tasks/dlq/" + "x".repeat(300), ADMIN).statusCode());
    }

    @Test
    void theDlqListPagesLikeOpenAiLists() throws Exception {
        upstream.failNext(100_000, 502);
        for (int i = 0; i < DLQ_SIZE; i++) {
            assertEquals(502, post(gateway, "/v1/chat/completions", BOB,
                    "{\"model\":\"task-model\",\"messages\":[{\"role\":\"user\",\"content\":\"page " + i + "\"}]}")
                    .statusCode());
        }
        JsonNode all = Json.MAPPER.readTree(get(gateway, "/tasks/dlq", ADMIN).body());
        assertEquals(DLQ_SIZE, all.get("data").size());
        assertFalse(all.get("has_more").asBoolean(), all.toString());
        assertEquals(all.at("/data/0/id").asText(), all.get("first_id").asText());
        assertEquals(all.at("/data/" + (DLQ_SIZE - 1) + "/id").asText(), all.get("last_id").asText());

        List<String> paged = new ArrayList<>();
        String after = null;
        int pages = 0;
        boolean more = true;
        while (more) {
            JsonNode page = Json.MAPPER.readTree(get(gateway, "/tasks/dlq?limit=2"
                    + (after == null ? "" : "&after=" + after), ADMIN).body());
            assertTrue(page.get("data").size() <= 2, page.toString());
            page.get("data").forEach(entry -> paged.add(entry.get("id").asText()));
            assertEquals(page.at("/data/0/id").asText(), page.get("first_id").asText());
            after = page.get("last_id").asText();
            more = page.get("has_more").asBoolean();
            pages++;
        }
        assertEquals(3, pages, "5 entries in pages of 2");
        List<String> ids = new ArrayList<>();
        all.get("data").forEach(entry -> ids.add(entry.get("id").asText()));
        assertEquals(ids, paged, "the pages together are the list, in order");

        for (String bad : List.of("limit=0", "limit=1001", "limit=ten", "after=dlq_0000")) {
            HttpResponse<String> refused = get(gateway, "/tasks/dlq?" + bad, ADMIN);
            assertEquals(400, refused.statusCode(), bad + ": " + refused.body());
            assertEquals(bad.substring(0, bad.indexOf('=')),
                    Json.MAPPER.readTree(refused.body()).at("/error/param").asText(), refused.body());
        }
    }

    /** Sends a chat request that fails into the DLQ (the upstream is left failing); returns its entry's id. */
    @Test
    void theQueueAndTheDeadLettersInJmx() throws Exception {
        javax.management.MBeanServer jmx = java.lang.management.ManagementFactory.getPlatformMBeanServer();
        javax.management.ObjectName tasks = new javax.management.ObjectName("org.apache.camel:context=caravan-"
                + gateway.port() + ",type=gateway,name=\"tasks\"");
        String id = failedRequest("counted " + UUID.randomUUID());
        upstream.failNext(0, 500);
        int listed = Json.MAPPER.readTree(get(gateway, "/tasks/dlq", ADMIN).body()).get("data").size();
        assertEquals(listed, ((Number) jmx.getAttribute(tasks, "DeadLetters")).intValue());

        upstream.firstTokenDelayMs(1500);
        String taskId = (String) jmx.invoke(tasks, "replayDeadLetter", new Object[] {id},
                new String[] {String.class.getName()});
        dev.caravan.support.Await.value("the replayed task counted running",
                () -> jmxLong(jmx, tasks, "Running"), running -> running >= 1, DEADLINE);
        assertEquals(taskId, deadLetterById(id).get("replay_task_id").asText(), "marked as the endpoint marks it");
        JsonNode done = awaitStatus(gateway, taskId, ALICE, Set.of("done", "failed"), DEADLINE);
        assertEquals("done", done.get("status").asText(), done.toString());
    }

    private static long jmxLong(javax.management.MBeanServer jmx, javax.management.ObjectName name, String attribute) {
        try {
            return ((Number) jmx.getAttribute(name, attribute)).longValue();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    String failedRequest(String marker) throws Exception {
        upstream.failNext(100_000, 500);
        HttpResponse<String> failed = post(gateway, "/v1/chat/completions", ALICE,
                "{\"model\":\"task-model\",\"messages\":[{\"role\":\"user\",\"content\":\"" + marker + "\"}]}");
        assertEquals(502, failed.statusCode(), failed.body());
        return deadLetter(marker).get("id").asText();
    }

    HttpResponse<String> delete(String path, String key) {
        java.net.http.HttpRequest.Builder request = java.net.http.HttpRequest.newBuilder(gateway.uri(path)).DELETE();
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return gateway.send(request.build());
    }

    JsonNode deadLetterById(String id) throws Exception {
        for (JsonNode entry : Json.MAPPER.readTree(get(gateway, "/tasks/dlq?limit=1000", ADMIN).body()).get("data")) {
            if (id.equals(entry.get("id").asText())) {
                return entry;
            }
        }
        return fail("no DLQ entry " + id);
    }

    /** The DLQ entry whose request's first message is {@code marker}, as the admin lists it. */
    JsonNode deadLetter(String marker) throws Exception {
        HttpResponse<String> list = get(gateway, "/tasks/dlq", ADMIN);
        assertEquals(200, list.statusCode(), list.body());
        JsonNode body = Json.MAPPER.readTree(list.body());
        assertEquals("list", body.get("object").asText());
        for (JsonNode entry : body.get("data")) {
            if (marker.equals(entry.at("/request/messages/0/content").asText())) {
                return entry;
            }
        }
        return fail("no DLQ entry for '" + marker + "' in " + list.body());
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new java.util.HashSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
