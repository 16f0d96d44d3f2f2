package dev.caravan.observe;

import java.lang.management.ManagementFactory;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.support.Await;
import dev.caravan.support.Calls;
import dev.caravan.support.EmulatedGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static dev.caravan.support.Calls.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An operator acts on a running gateway through JMX, in-process through the platform MBean server as jconsole
 * would remotely: lane limits and pause, circuits forced open and closed, gateway.yaml reloaded, a dead letter
 * replayed. Each change shows in /v1/lanes and /health, and traffic follows it.
 */
class JmxOperationsTest {

    private static final String CONFIG = """
            backends:
              emu: {type: openai, url: "%s", max-concurrent: 1, queue-size: 50}
              other: {type: openai, url: "%s", max-concurrent: 4, queue-size: 50}
            models:
              lane-model: {backend: emu}
              breaker-model: {backend: other}
              sibling-model: {backend: other}
              dlq-model: {backend: other}
            """;

    private static final MBeanServer JMX = ManagementFactory.getPlatformMBeanServer();

    @RegisterExtension
    static final EmulatedGateway env = EmulatedGateway.withEmulator(emulator -> CONFIG.formatted(emulator.baseUrl(),
                    emulator.extraBaseUrl()))
            .property("gateway.retry.base-delay-ms", "1")
            .property("gateway.retry.max-delay-ms", "5")
            // circuits open here only when forced: the failures the DLQ test makes must not open one
            .property("gateway.circuit.sliding-window-size", "10000")
            .property("gateway.circuit.minimum-calls", "10000")
            // gateway.yaml is read when JMX says so: the file watcher must not get there first
            .property("gateway.config-poll-ms", "3600000");

    @AfterEach
    void drained() {
        assertTrue(UpstreamEmulator.await(() -> env.upstream().inFlight() == 0
                && lane("emu").path("in_flight").asInt() == 0 && lane("emu").path("waiting").path("total").asInt() == 0,
                Duration.ofSeconds(15)), "lanes did not drain");
    }

    @Test
    void aLanesMaxConcurrentRisesAndFallsAtRuntime() throws Exception {
        ObjectName emu = name("lanes", "emu");
        assertEquals(1, JMX.getAttribute(emu, "MaxConcurrent"));
        env.upstream().firstTokenDelayMs(1500);
        List<CompletableFuture<HttpResponse<String>>> replies = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            replies.add(send("lane-model"));
        }
        assertTrue(env.upstream().awaitInFlight(1, Duration.ofSeconds(5)));
        Await.value("three waiting", () -> attribute(emu, "Waiting"), waiting -> waiting.equals(3), Duration.ofSeconds(5));
        assertEquals(3, JMX.getAttribute(emu, "WaitingNormal"));

        // a raise admits the waiters at once, while the first call still runs
        JMX.invoke(emu, "setMaxConcurrent", new Object[] {3}, new String[] {"int"});
        assertTrue(env.upstream().awaitInFlight(3, Duration.ofSeconds(1)), "the raise admitted two waiters at once");
        assertEquals(3, lanes("emu").path("max_concurrent").asInt(), "/v1/lanes shows the new cap");
        assertEquals(3, lane("emu").path("max_concurrent").asInt(), "/health shows the new cap");
        assertEquals(3, JMX.getAttribute(emu, "InFlight"));

        // a cut lets the calls in flight finish and admits no more until they are below it
        JMX.invoke(emu, "setMaxConcurrent", new Object[] {1}, new String[] {"int"});
        assertEquals(1, lanes("emu").path("max_concurrent").asInt());
        for (int i = 0; i < 2; i++) {
            replies.add(send("lane-model"));
        }
        Await.value("the cut left three waiting", () -> attribute(emu, "Waiting"), w -> w.equals(3), Duration.ofSeconds(5));
        assertEquals(3, env.upstream().inFlight(), "the calls in flight went on");
        // from the moment the upstream sees one call or none, it never sees two again
        Await.value("the calls above the cap finished", () -> env.upstream().inFlight(), n -> n <= 1, Duration.ofSeconds(10));
        while (replies.stream().anyMatch(r -> !r.isDone())) {
            assertTrue(env.upstream().inFlight() <= 1, "more than the lowered cap reached the upstream");
            java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
        }
        for (CompletableFuture<HttpResponse<String>> reply : replies) {
            assertEquals(200, reply.join().statusCode());
        }
        assertEquals(6, env.upstream().requests());
    }

    @Test
    void aPausedLaneHoldsNewRequestsLetsInFlightOnesFinishAndResumes() throws Exception {
        ObjectName emu = name("lanes", "emu");
        env.upstream().firstTokenDelayMs(800);
        CompletableFuture<HttpResponse<String>> inFlight = send("lane-model");
        assertTrue(env.upstream().awaitInFlight(1, Duration.ofSeconds(5)));
        JMX.invoke(emu, "pause", new Object[0], new String[0]);
        try {
            assertEquals(true, JMX.getAttribute(emu, "Paused"));
            assertEquals("paused", json(env.gateway().get("/health").body()).at("/backends/emu/status").asText());
            assertTrue(lanes("emu").path("paused").asBoolean());

            env.upstream().firstTokenDelayMs(0);
            CompletableFuture<HttpResponse<String>> held = send("lane-model");
            Await.value("the new request waits", () -> attribute(emu, "Waiting"), w -> w.equals(1), Duration.ofSeconds(5));
            assertEquals(200, inFlight.join().statusCode(), "the call in flight finished");
            assertEquals(1, env.upstream().requests(), "nothing new reached the paused backend");
            assertFalse(held.isDone());

            // paused with a full queue: 503 at once
            JMX.invoke(emu, "setQueueSize", new Object[] {1}, new String[] {"int"});
            assertEquals(1, lanes("emu").path("queue_size").asInt());
            HttpResponse<String> turnedAway = send("lane-model").join();
            assertEquals(503, turnedAway.statusCode(), turnedAway.body());
            assertEquals("overloaded", Calls.errorCode(turnedAway));

            JMX.invoke(emu, "resume", new Object[0], new String[0]);
            assertEquals(200, held.join().statusCode(), "the held request flowed once resumed");
            assertEquals(false, JMX.getAttribute(emu, "Paused"));
            assertEquals("ok", json(env.gateway().get("/health").body()).at("/backends/emu/status").asText());
        } finally {
            JMX.invoke(emu, "resume", new Object[0], new String[0]);
            JMX.invoke(emu, "setQueueSize", new Object[] {50}, new String[] {"int"});
        }
    }

    @Test
    void aCircuitForcedOpenAnswers503AndForcedClosedFlowsAgain() throws Exception {
        ObjectName other = name("circuits", "other");
        assertEquals("closed", JMX.getAttribute(other, "State"));
        assertEquals("forced_open", JMX.invoke(other, "forceOpen", new Object[0], new String[0]));
        try {
            HttpResponse<String> refused = Calls.chat(env.gateway(), "breaker-model");
            assertEquals(503, refused.statusCode(), refused.body());
            assertEquals("circuit_open", Calls.errorCode(refused));
            assertTrue(refused.headers().firstValue("retry-after").isPresent());
            assertEquals(0, env.upstream().requests(), "nothing was sent to the forced-open backend");
            assertEquals("forced_open", json(env.gateway().get("/health").body()).at("/backends/other/circuit").asText());
            assertEquals("forced_open", lanes("other").path("circuit").asText());
            assertEquals("forced_open", JMX.getAttribute(name("lanes", "other"), "CircuitState"));

            assertEquals("closed", JMX.invoke(other, "forceClosed", new Object[0], new String[0]));
            assertEquals(200, Calls.chat(env.gateway(), "breaker-model").statusCode());
            assertEquals("closed", json(env.gateway().get("/health").body()).at("/backends/other/circuit").asText());

            // one upstream model's circuit: its siblings on the backend still flow
            JMX.invoke(other, "forceOpenModel", new Object[] {"breaker-model"}, new String[] {String.class.getName()});
            assertEquals("circuit_open", Calls.errorCode(Calls.chat(env.gateway(), "breaker-model")));
            assertEquals(200, Calls.chat(env.gateway(), "sibling-model").statusCode());
            assertEquals("forced_open", json(env.gateway().get("/health").body())
                    .at("/backends/other/circuit_models/breaker-model").asText());
            @SuppressWarnings("unchecked")
            Map<String, String> states = (Map<String, String>) JMX.getAttribute(other, "CircuitStates");
            assertEquals("forced_open", states.get("breaker-model"), states.toString());
            assertEquals("closed", states.get("sibling-model"), states.toString());
            assertEquals("closed", JMX.invoke(other, "reset", new Object[0], new String[0]));
            assertEquals(200, Calls.chat(env.gateway(), "breaker-model").statusCode());
        } finally {
            JMX.invoke(other, "reset", new Object[0], new String[0]);
        }
    }

    @Test
    void reloadConfigReadsGatewayYamlNowAndReappliesItsLaneLimits() throws Exception {
        ObjectName config = name("gateway", "config");
        ObjectName emu = name("lanes", "emu");
        String original = CONFIG.formatted(env.upstream().baseUrl(), env.upstream().extraBaseUrl());
        JMX.invoke(emu, "setMaxConcurrent", new Object[] {5}, new String[] {"int"});
        try {
            env.gateway().writeConfig(original + "  added-model: {backend: emu}\n");
            Object reloaded = JMX.invoke(config, "reloadConfig", new Object[0], new String[0]);
            assertTrue(reloaded.toString().contains("added-model"), reloaded.toString());
            assertEquals(200, Calls.chat(env.gateway(), "added-model").statusCode(), "the new model serves at once");
            assertEquals(1, lanes("emu").path("max_concurrent").asInt(), "the file's limit replaced the JMX one");
            assertEquals(1, JMX.getAttribute(emu, "MaxConcurrent"));

            env.gateway().writeConfig("backends: {emu: {type: openai, bogus-key: 1}}\n");
            JMException refused = assertThrows(JMException.class,
                    () -> JMX.invoke(config, "reloadConfig", new Object[0], new String[0]));
            assertTrue(String.valueOf(refused.getCause()).contains("bogus-key"), String.valueOf(refused.getCause()));
            assertTrue(JMX.getAttribute(config, "LastRefusal").toString().contains("bogus-key"));
            assertEquals(200, Calls.chat(env.gateway(), "added-model").statusCode(), "the last good configuration stays");
        } finally {
            env.gateway().writeConfig(original);
            JMX.invoke(config, "reloadConfig", new Object[0], new String[0]);
        }
        assertEquals("", JMX.getAttribute(config, "LastRefusal"));
        assertEquals(404, Calls.chat(env.gateway(), "added-model").statusCode());
    }

    @Test
    void aDeadLetterReplaysThroughJmxAsThroughTheAdminEndpoint() throws Exception {
        ObjectName tasks = name("gateway", "tasks");
        env.upstream().failNext(1000, 500);
        assertEquals(502, Calls.chat(env.gateway(), "dlq-model").statusCode());
        JsonNode entry = Await.value("the failure in the DLQ", () -> json(env.gateway().get("/tasks/dlq").body()),
                dlq -> dlq.path("data").size() > 0, Duration.ofSeconds(5)).path("data").get(0);
        String id = entry.path("id").asText();
        assertEquals("dlq-model", entry.path("model").asText());
        assertTrue(((Number) JMX.getAttribute(tasks, "DeadLetters")).intValue() >= 1);
        assertEquals("memory", JMX.getAttribute(tasks, "Store"));

        env.upstream().failNext(0, 500);
        String taskId = (String) JMX.invoke(tasks, "replayDeadLetter", new Object[] {id},
                new String[] {String.class.getName()});
        assertTrue(taskId.startsWith("task_"), taskId);
        JsonNode done = Await.value("the replayed task done", () -> json(env.gateway().get("/tasks/" + taskId).body()),
                task -> "done".equals(task.path("status").asText()), Duration.ofSeconds(10));
        assertEquals("chat.completion", done.at("/result/object").asText(), done.toString());
        assertEquals(0L, JMX.getAttribute(tasks, "Queued"));
        assertEquals(0L, JMX.getAttribute(tasks, "Running"));

        JMException again = assertThrows(JMException.class, () -> JMX.invoke(tasks, "replayDeadLetter",
                new Object[] {id}, new String[] {String.class.getName()}));
        assertTrue(String.valueOf(again.getCause()).contains("replayed"), String.valueOf(again.getCause()));
        JMException unknown = assertThrows(JMException.class, () -> JMX.invoke(tasks, "replayDeadLetter",
                new Object[] {"dlq_nope"}, new String[] {String.class.getName()}));
        assertTrue(String.valueOf(unknown.getCause()).contains("No dead letter"), String.valueOf(unknown.getCause()));
    }

    static ObjectName name(String type, String name) throws Exception {
        return new ObjectName("org.apache.camel:context=caravan-" + env.gateway().port() + ",type=" + type
                + ",name=\"" + name + "\"");
    }

    private static Object attribute(ObjectName name, String attribute) {
        try {
            return JMX.getAttribute(name, attribute);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static CompletableFuture<HttpResponse<String>> send(String model) {
        return Calls.sendAsync(env.gateway(), Calls.chatRequest(env.gateway(), Calls.body(model, false, "hi"))
                .timeout(Duration.ofSeconds(30)));
    }

    private static JsonNode lane(String backend) {
        return json(env.gateway().get("/health").body()).at("/backends/" + backend + "/lane");
    }

    private static JsonNode lanes(String backend) {
        for (JsonNode lane : json(env.gateway().get("/v1/lanes").body()).path("data")) {
            if (backend.equals(lane.path("backend").asText())) {
                return lane;
            }
        }
        throw new AssertionError("no lane " + backend);
    }
}
