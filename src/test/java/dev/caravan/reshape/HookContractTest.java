package dev.caravan.reshape;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.support.Await;
import dev.caravan.support.Calls;
import dev.caravan.support.EmulatedGateway;
import dev.caravan.support.LogCapture;
import dev.caravan.support.RawHttp;
import dev.caravan.support.TestRoutes;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hook contract (issue 7 items 1, 3, 4, 5) with YAML steps only, as an operator would add them to the routes:
 * a jq rewrite in mid-hooks reaches the upstream, stream and non-stream; a choice on the model; the reject and
 * reply-header kamelets; a stream hook that rewrites and drops chunks; and an audit step in post-hooks that runs
 * exactly once per request on success, on upstream failure, on a cut stream, on a rejection and on a disconnect.
 */
class HookContractTest {

    private static final TestRoutes ROUTES = TestRoutes.copy()
            .append("30-mid-hooks.camel.yaml", """
                    - transform: {id: cool-down, jq: '.temperature = 0.2'}
                    - choice:
                        id: cheap-model
                        when:
                          - jq: '.model == "cheap"'
                            steps:
                              - transform: {jq: '.model = "gpt-emu" | .max_tokens = 5'}
                    - filter:
                        id: banned-user
                        jq: '.user == "banned"'
                        steps:
                          - to: {uri: "kamelet:reject-action", parameters: {status: 403, code: user_banned, message: "User ${body[user]} may not ask"}}
                    - to: {uri: "kamelet:reply-header-action", parameters: {name: x-hooked-model, value: "${body[model]}"}}
                    """)
            .append("65-stream-hooks.camel.yaml", """
                    - transform: {jq: '.x_hooked = true'}
                    - filter:
                        jq: '.choices[0].delta.content == "from "'
                        steps:
                          - setBody: {simple: "${null}"}
                          - stop: {}
                    - filter:
                        jq: '.choices[0].delta.content // "" | startswith("boom")'
                        steps:
                          - throwException: {exceptionType: java.lang.IllegalStateException, message: "a stream hook failed"}
                    """)
            .append("70-post-hooks.camel.yaml", """
                    - log: {id: audit, message: "audit ${exchangeProperty.CaravanRequestId} status=${header.CamelHttpResponseCode}", logName: test.audit}
                    - filter:
                        simple: "${header.x-explode} == 'yes'"
                        steps:
                          - throwException: {exceptionType: java.lang.IllegalStateException, message: "a post-hook step failed"}
                    """);

    @RegisterExtension
    static final EmulatedGateway env = EmulatedGateway.withConfig(url -> """
            backends:
              emu: {type: openai, url: "%s", max-concurrent: 8}
              local: {type: local}
            models:
              gpt-emu: {backend: emu, upstream-model: emu-upstream}
              caravan-echo: {backend: local}
            """.formatted(url))
            .property("camel.main.routes-include-pattern", "file:" + ROUTES.dir() + "/*.camel.yaml")
            .property("gateway.retry.max-attempts", "1")
            .property("gateway.circuit.minimum-calls", "1000");

    static final LogCapture logs = LogCapture.install();

    @Test
    void aJqStepInMidHooksChangesWhatTheUpstreamReceives() {
        String id = newId();
        HttpResponse<String> reply = chat("{\"model\":\"gpt-emu\",\"temperature\":1.5,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", id);
        assertEquals(200, reply.statusCode(), reply.body());
        assertEquals(0.2, env.upstream().lastRequestBody().getDouble("temperature"));
        assertEquals("gpt-emu", reply.headers().firstValue("x-hooked-model").orElseThrow());
        awaitAudits(id, 1);
    }

    @Test
    void aJqStepInMidHooksChangesWhatTheUpstreamReceivesWhenStreaming() throws Exception {
        String id = newId();
        RawHttp.Response stream = Calls.rawChat(env.gateway(), "{\"model\":\"gpt-emu\",\"stream\":true,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "x-request-id: " + id);
        assertEquals(200, stream.status, stream.body);
        assertEquals(0.2, env.upstream().lastRequestBody().getDouble("temperature"));
        assertTrue(stream.body.endsWith("data: [DONE]\n\n"), stream.body);
        awaitAudits(id, 1);
    }

    @Test
    void anNdjsonStreamPassesTheSameHooksOnce() throws Exception {
        String id = newId();
        try (RawHttp http = RawHttp.postJson(env.gateway().port(), "/v1/chat/completions/stream",
                "{\"model\":\"gpt-emu\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                "x-request-id: " + id)) {
            RawHttp.Response response = http.readAll();
            assertEquals(200, response.status, response.body);
            assertTrue(response.body.contains("\"x_hooked\":true"), "the chunks passed the stream hooks: " + response.body);
        }
        assertEquals(0.2, env.upstream().lastRequestBody().getDouble("temperature"));
        awaitAudits(id, 1);
    }

    @Test
    void aChoiceOnTheModelRewritesModelAndParameters() {
        HttpResponse<String> reply = chat("{\"model\":\"cheap\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                newId());
        assertEquals(200, reply.statusCode(), reply.body());
        JsonObject sent = env.upstream().lastRequestBody();
        assertEquals("emu-upstream", sent.getString("model"));
        assertEquals(5, sent.getInteger("max_tokens"));
        assertEquals("gpt-emu", Calls.json(reply.body()).path("model").asText());
    }

    @Test
    void theRejectKameletAnswersInTheDialectsErrorShapeAndNothingGoesUpstream() {
        String id = newId();
        int before = env.upstream().requests();
        HttpResponse<String> reply = chat("{\"model\":\"gpt-emu\",\"user\":\"banned\","
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", id);
        assertEquals(403, reply.statusCode(), reply.body());
        JsonNode error = Calls.json(reply.body()).path("error");
        assertEquals("user_banned", error.path("code").asText());
        assertEquals("invalid_request_error", error.path("type").asText());
        assertEquals("User banned may not ask", error.path("message").asText());
        assertTrue(error.has("param"));
        assertEquals(before, env.upstream().requests());
        awaitAudits(id, 1);
        assertEquals("[]", Calls.json(env.gateway().get("/tasks/dlq").body()).path("data").toString(),
                "a rejection is no dead letter");
    }

    @Test
    void streamHooksRewriteAndDropChunksAndPostHooksSeeWhatTheClientGot() throws Exception {
        env.upstream().reply("Hello from the hooks");
        RawHttp.Response stream = Calls.rawChat(env.gateway(), "{\"model\":\"gpt-emu\",\"stream\":true,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(200, stream.status, stream.body);
        List<String> events = stream.events();
        StringBuilder text = new StringBuilder();
        for (String event : events) {
            if (event.equals("[DONE]")) {
                continue;
            }
            JsonNode chunk = Calls.json(event);
            assertTrue(chunk.path("x_hooked").asBoolean(), "every chunk passed the stream hooks: " + event);
            text.append(chunk.at("/choices/0/delta/content").asText(""));
        }
        assertEquals("Hello the hooks", text.toString(), "the \"from \" chunk was dropped");
    }

    @Test
    void aFailingStreamHookEndsTheStreamWithAnErrorEventAtOnce() throws Exception {
        env.upstream().reply("Say boom now");
        for (String model : new String[] {"gpt-emu", "caravan-echo"}) { // a remote upstream, and the local emitter
            String id = newId();
            long start = System.nanoTime();
            RawHttp.Response stream = Calls.rawChat(env.gateway(), "{\"model\":\"" + model + "\",\"stream\":true,"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"boom\"}]}", "x-request-id: " + id);
            assertEquals(200, stream.status, stream.body);
            assertFalse(stream.body.contains("[DONE]"), stream.body);
            assertEquals("internal_error", Calls.lastEvent(stream).at("/error/code").asText(), model + ": " + stream.body);
            assertTrue(Calls.millisSince(start) < 5000, model + ": the stream ended at once, not at a timeout");
            awaitAudits(id, 1);
        }
    }

    @Test
    void postHooksRunOnceOnUpstreamFailure() {
        String id = newId();
        env.upstream().failNext(1, 500);
        HttpResponse<String> reply = chat("{\"model\":\"gpt-emu\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", id);
        assertEquals(502, reply.statusCode(), reply.body());
        awaitAudits(id, 1);
    }

    @Test
    void postHooksRunOnceOnACutStream() throws Exception {
        String id = newId();
        env.upstream().cutAfterTokens(2);
        RawHttp.Response stream = Calls.rawChat(env.gateway(), "{\"model\":\"gpt-emu\",\"stream\":true,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "x-request-id: " + id);
        assertFalse(stream.body.contains("[DONE]"), stream.body);
        assertTrue(Calls.lastEvent(stream).has("error"), stream.body);
        awaitAudits(id, 1);
    }

    @Test
    void postHooksRunOnceWhenTheClientLeavesMidStream() throws Exception {
        String id = newId();
        env.upstream().tokenDelayMs(50);
        try (RawHttp http = RawHttp.postJson(env.gateway().port(), "/v1/chat/completions",
                "{\"model\":\"gpt-emu\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                "x-request-id: " + id)) {
            assertEquals(200, http.readHead().status);
            String line = http.readLine();
            while (line != null && !line.startsWith("data: ")) {
                line = http.readLine(); // up to the first event: the stream has begun; now leave
            }
            assertTrue(line != null, "an event came before the client left");
        }
        assertTrue(env.upstream().awaitClientAborts(1, Duration.ofSeconds(10)), "the upstream call was aborted");
        awaitAudits(id, 1);
    }

    @Test
    void postHooksRunOnceForABadRequest() {
        String id = newId();
        HttpResponse<String> reply = chat("{\"model\":\"gpt-emu\"}", id);
        assertEquals(400, reply.statusCode(), reply.body());
        awaitAudits(id, 1);
    }

    @Test
    void aFailingPostHookStepAnswersTheErrorAndThePostHooksDoNotRunAgain() {
        String id = newId();
        HttpResponse<String> reply = env.gateway().send(Calls.chatRequest(env.gateway(),
                "{\"model\":\"gpt-emu\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                "x-request-id", id, "x-explode", "yes").build());
        assertEquals(500, reply.statusCode(), reply.body());
        assertEquals("internal_error", Calls.errorCode(reply));
        assertFalse(reply.body().contains("IllegalStateException"), reply.body());
        awaitAudits(id, 1);
    }

    @Test
    void postHooksRunOnceForATaskAndItsJsonReply() {
        HttpResponse<String> accepted = env.gateway().postJson("/tasks/enqueue",
                "{\"model\":\"gpt-emu\",\"messages\":[{\"role\":\"user\",\"content\":\"later\"}]}");
        assertEquals(202, accepted.statusCode(), accepted.body());
        String task = Calls.json(accepted.body()).path("id").asText();
        JsonNode done = Await.value("the task done", () -> Calls.json(env.gateway().get("/tasks/" + task).body()),
                t -> t.path("status").asText().equals("done"), Duration.ofSeconds(20));
        assertEquals(0.2, env.upstream().lastRequestBody().getDouble("temperature"), "the task went through mid-hooks");
        assertEquals("gpt-emu", done.at("/result/model").asText());
        awaitAudits(task + "-1", 1);
    }

    private static HttpResponse<String> chat(String json, String requestId) {
        return env.gateway().send(Calls.chatRequest(env.gateway(), json, "x-request-id", requestId).build());
    }

    private static String newId() {
        return "req-" + UUID.randomUUID();
    }

    /** Waits for the audit lines of the request, then checks no second one follows the first within a moment. */
    private static void awaitAudits(String id, int expected) {
        Await.value("the audit step logged " + id, () -> audits(id), n -> n >= expected, Duration.ofSeconds(10));
        // a second run would come from the same exchange's error route, within the same request: give it a beat by
        // sending one more request through the same pipeline and waiting for its audit (ordering, not sleeping)
        String marker = newId();
        chat("{\"model\":\"gpt-emu\",\"messages\":[{\"role\":\"user\",\"content\":\"marker\"}]}", marker);
        Await.value("the marker's audit", () -> audits(marker), n -> n >= 1, Duration.ofSeconds(10));
        assertEquals(expected, audits(id), "post-hooks ran exactly once for " + id + ": " + logs.lines());
    }

    private static int audits(String id) {
        return logs.count(c -> c.logger().equals("test.audit") && c.message().startsWith("audit " + id + " "));
    }
}
