package dev.caravan.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.openai.Json;
import dev.caravan.support.Await;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.GatewayProcess;
import dev.caravan.support.RedisServer;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM to a gateway in a JVM of its own, as Kubernetes sends it: readiness goes 503 at once, a new request gets
 * 503 draining with retry-after, a stream in flight runs to its [DONE] within the grace period (or, past it, ends with
 * an error event), a task running from Redis is given back and finished by another instance, and the process exits 0.
 * In process too (a stop of the CamelContext drains the same way): a request at the upstream or waiting in a lane when
 * the grace ends gets 503 draining, not a hang or a reset connection.
 */
class GracefulDrainTest {

    private static final Duration DEADLINE = Duration.ofSeconds(30);
    /** Ten tokens: with a token delay, a stream that lasts a known while. */
    private static final String REPLY = "one two three four five six seven eight nine ten";
    private static final String STREAM = """
            {"model":"slow-model","stream":true,"messages":[{"role":"user","content":"take your time"}]}""";
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static String yaml(UpstreamEmulator upstream) {
        return """
                backends:
                  emu: {type: openai, url: "%s", max-concurrent: 8}
                models:
                  slow-model: {backend: emu}
                """.formatted(upstream.baseUrl());
    }

    @Test
    void aStreamInFlightFinishesWhileNewRequestsAreTurnedAwayThenTheProcessExitsZero() throws Exception {
        try (UpstreamEmulator upstream = UpstreamEmulator.start()) {
            upstream.reply(REPLY).tokenDelayMs(400); // about 4 s of stream
            try (GatewayProcess gateway = GatewayProcess.start(yaml(upstream), Map.of("DRAIN_GRACE_SECONDS", "30"))) {
                CompletableFuture<HttpResponse<String>> stream = http.sendAsync(post(gateway, STREAM),
                        HttpResponse.BodyHandlers.ofString());
                assertTrue(upstream.awaitInFlight(1, DEADLINE), "the stream reached the upstream");

                gateway.terminate();
                HttpResponse<String> ready = Await.value("readiness down", () -> get(gateway, "/health/ready"),
                        r -> r.statusCode() == 503, Duration.ofSeconds(5));
                assertEquals("stopping", Json.MAPPER.readTree(ready.body()).path("status").asText(), ready.body());
                assertFalse(stream.isDone(), "the stream is still in flight while the gateway drains");

                HttpResponse<String> refused = send(post(gateway, STREAM.replace("true", "false")));
                assertEquals(503, refused.statusCode(), refused.body());
                assertEquals("1", refused.headers().firstValue("retry-after").orElse(null));
                JsonNode error = Json.MAPPER.readTree(refused.body()).path("error");
                assertEquals("draining", error.path("code").asText(), refused.body());
                assertEquals("server_error", error.path("type").asText(), refused.body());
                assertEquals(200, get(gateway, "/health").statusCode(), "liveness stays up while draining");

                HttpResponse<String> streamed = stream.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
                assertEquals(200, streamed.statusCode());
                assertTrue(streamed.body().endsWith("data: [DONE]\n\n"), streamed.body());
                assertFalse(streamed.body().contains("\"error\""), streamed.body());
                assertTrue(streamed.body().contains("\"ten\"") || streamed.body().contains(" ten"), streamed.body());

                assertEquals(0, gateway.awaitExit(DEADLINE), "exit code");
            }
        }
    }

    @Test
    void aStreamLongerThanTheGraceEndsWithAnErrorEventAndTheProcessStillExitsZero() throws Exception {
        try (UpstreamEmulator upstream = UpstreamEmulator.start()) {
            upstream.reply(REPLY).tokenDelayMs(2_000); // about 20 s of stream
            try (GatewayProcess gateway = GatewayProcess.start(yaml(upstream), Map.of("DRAIN_GRACE_SECONDS", "1",
                    "LOG_LEVEL", "INFO"))) {
                CompletableFuture<HttpResponse<String>> stream = http.sendAsync(post(gateway, STREAM),
                        HttpResponse.BodyHandlers.ofString());
                assertTrue(upstream.awaitInFlight(1, DEADLINE), "the stream reached the upstream");
                long signalled = System.nanoTime();
                gateway.terminate();

                HttpResponse<String> streamed = stream.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
                assertEquals(200, streamed.statusCode());
                String body = streamed.body();
                assertFalse(body.contains("[DONE]"), "a stream cut by the stop is never a clean end: " + body);
                String last = body.strip().substring(body.strip().lastIndexOf("data: ") + 6);
                JsonNode error = Json.MAPPER.readTree(last).path("error");
                assertEquals("draining", error.path("code").asText(), body);
                assertTrue(error.path("message").asText().contains("1 s"), body);

                assertEquals(0, gateway.awaitExit(DEADLINE), "exit code");
                long took = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - signalled);
                assertTrue(took < 12, "the stop took " + took + " s: the grace of 1 s bounds it, not the stream");
                assertTrue(upstream.awaitClientAborts(1, Duration.ofSeconds(5)), "the upstream call was aborted");
                String log = gateway.log();
                assertTrue(log.contains("The drain grace period of 1 s ended with"), log);
            }
        }
    }

    @Test
    void requestsAtTheUpstreamOrInALaneWhenTheGraceEndsGet503Draining() throws Exception {
        try (UpstreamEmulator upstream = UpstreamEmulator.start()) {
            upstream.hangNext(1); // the first request gets no answer at all; the second waits for the one slot
            GatewayInstance gateway = GatewayInstance.builder().config("""
                            backends:
                              emu: {type: openai, url: "%s", max-concurrent: 1, queue-timeout-seconds: 60}
                            models:
                              slow-model: {backend: emu}
                            """.formatted(upstream.baseUrl()))
                    .property("gateway.drain-grace-seconds", "1").start();
            String json = STREAM.replace("true", "false");
            CompletableFuture<HttpResponse<String>> atUpstream = http.sendAsync(HttpRequest.newBuilder(
                    gateway.uri("/v1/chat/completions")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(upstream.awaitInFlight(1, DEADLINE), "the first request reached the upstream");
            CompletableFuture<HttpResponse<String>> inLane = http.sendAsync(HttpRequest.newBuilder(
                    gateway.uri("/v1/chat/completions")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
            Await.value("the second request waiting in the lane", () -> gateway.camel().getInflightRepository().size(),
                    n -> n >= 2, DEADLINE);

            CompletableFuture<Void> stopped = CompletableFuture.runAsync(gateway::close);
            for (CompletableFuture<HttpResponse<String>> request : java.util.List.of(atUpstream, inLane)) {
                HttpResponse<String> reply = request.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
                assertEquals(503, reply.statusCode(), reply.body());
                assertEquals("1", reply.headers().firstValue("retry-after").orElse(null));
                assertEquals("draining", Json.MAPPER.readTree(reply.body()).at("/error/code").asText(), reply.body());
            }
            stopped.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        }
    }

    @Test
    void aTaskRunningFromRedisIsGivenBackAtOnceAndFinishedByAnotherInstance() throws Exception {
        try (RedisServer redis = RedisServer.start(); UpstreamEmulator upstream = UpstreamEmulator.start()) {
            upstream.firstTokenDelayMs(120_000); // the task stays in flight at the upstream until the stop
            String yaml = yaml(upstream);
            String id;
            // a long grace and the default 30 s lease: only a task given back at the stop can be done within 20 s
            try (GatewayProcess first = GatewayProcess.start(yaml, Map.of("REDIS_URL", redis.url(),
                    "DRAIN_GRACE_SECONDS", "60"))) {
                HttpResponse<String> accepted = send(HttpRequest.newBuilder(uri(first, "/tasks/enqueue"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(
                                "{\"model\":\"slow-model\",\"messages\":[{\"role\":\"user\",\"content\":\"later\"}]}"))
                        .build());
                assertEquals(202, accepted.statusCode(), accepted.body());
                id = Json.MAPPER.readTree(accepted.body()).get("id").asText();
                Await.value("the task running", () -> get(first, "/tasks/" + id),
                        r -> r.body().contains("\"running\""), DEADLINE);
                assertTrue(upstream.awaitInFlight(1, DEADLINE), "the task reached the upstream");

                long signalled = System.nanoTime();
                first.terminate();
                assertEquals(0, first.awaitExit(DEADLINE), "exit code");
                long took = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - signalled);
                assertTrue(took < 15, "the stop took " + took + " s: a task is given back, not waited for");
            }
            upstream.firstTokenDelayMs(0);
            try (GatewayInstance second = GatewayInstance.builder().config(yaml)
                    .property("gateway.redis-url", redis.url()).start()) {
                JsonNode task = Await.value("the task done on the second instance", () -> {
                    HttpResponse<String> r = second.get("/tasks/" + id);
                    try {
                        return Json.MAPPER.readTree(r.body());
                    } catch (java.io.IOException e) {
                        throw new IllegalStateException(e);
                    }
                }, t -> Set.of("done", "failed").contains(t.path("status").asText()), Duration.ofSeconds(20));
                assertEquals("done", task.path("status").asText(), task.toString());
                assertEquals(UpstreamEmulator.DEFAULT_REPLY, task.at("/result/choices/0/message/content").asText());
                assertEquals(2, task.path("attempts").asInt(), "given back once, run again once: " + task);
            }
        }
    }

    private static URI uri(GatewayProcess gateway, String path) {
        return URI.create("http://127.0.0.1:" + gateway.port() + path);
    }

    private static HttpRequest post(GatewayProcess gateway, String json) {
        return HttpRequest.newBuilder(uri(gateway, "/v1/chat/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build();
    }

    private HttpResponse<String> get(GatewayProcess gateway, String path) {
        return send(HttpRequest.newBuilder(uri(gateway, path)).GET().build());
    }

    private HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
