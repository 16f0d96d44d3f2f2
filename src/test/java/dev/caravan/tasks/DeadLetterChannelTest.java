package dev.caravan.tasks;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.openai.Json;
import dev.caravan.support.Await;
import dev.caravan.support.EmulatedGateway;
import dev.caravan.support.RawHttp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The error path is a dead-letter channel (routes/90-errors.camel.yaml) whose channel, the dead-letter route, sets
 * the error reply and keeps upstream-class failures. What Camel does with it, observed from outside: a failure
 * deep in nested direct: routes (router → lane → backend) gets its error reply, not the request echoed back with
 * 200 (what a bare dead-letter channel does on request/response), is handled exactly once, and stops the
 * exchange: the pipeline's post-hooks never run for it (their metrics step would count it a second time).
 */
class DeadLetterChannelTest {

    @RegisterExtension
    static final EmulatedGateway env = EmulatedGateway.withConfig(url -> """
            backends:
              emu: {type: openai, url: "%s"}
            models:
              nested-fail: {backend: emu}
              nested-ok: {backend: emu}
              stream-cut: {backend: emu}
            """.formatted(url))
            .property("gateway.retry.base-delay-ms", "1")
            .property("gateway.retry.max-delay-ms", "5")
            // the circuit breaker is another test's subject: here it must not open on the failures we make
            .property("gateway.circuit.sliding-window-size", "10000")
            .property("gateway.circuit.minimum-calls", "10000");

    @Test
    void aFailureInANestedRouteIsAnsweredOnceAndSkipsThePostHooks() throws Exception {
        env.upstream().failNext(1000, 500);
        HttpResponse<String> response = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"nested-fail\",\"messages\":[{\"role\":\"user\",\"content\":\"echo me not\"}]}");
        assertEquals(502, response.statusCode(), response.body());
        JsonNode error = Json.MAPPER.readTree(response.body()).get("error");
        assertEquals("upstream_error", error.get("type").asText(), response.body());
        assertFalse(response.body().contains("echo me not"), "the request must not come back as the reply");
        assertTrue(env.upstream().requests() >= 1);

        env.upstream().failNext(0, 500);
        assertEquals(200, env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"nested-ok\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}").statusCode());

        String metrics = env.gateway().get("/metrics").body().lines()
                .filter(line -> line.startsWith("caravan_requests_total")).reduce("", (a, b) -> a + b + "\n");
        // requestMetrics runs once per request: in the dead-letter route for the failure, in post-hooks for the
        // success. Had the pipeline gone on into post-hooks after the failure, it would count 2 (or an "ok").
        assertEquals(1.0, requests(metrics, "nested-fail", "upstream_error"), metrics);
        assertEquals(0.0, requests(metrics, "nested-fail", "ok"), metrics);
        assertEquals(1.0, requests(metrics, "nested-ok", "ok"), metrics);
    }

    @Test
    void clientErrorsAreAnsweredButNotKept() throws Exception {
        int before = dlqSize();
        HttpResponse<String> bad = env.gateway().postJson("/v1/chat/completions", "{\"model\":\"nested-ok\"}");
        assertEquals(400, bad.statusCode(), bad.body());
        assertEquals("messages", Json.MAPPER.readTree(bad.body()).at("/error/param").asText());
        HttpResponse<String> unknown = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"no-such-model\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(404, unknown.statusCode(), unknown.body());
        env.upstream().failNext(1000, 400);
        HttpResponse<String> rejected = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"nested-ok\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(400, rejected.statusCode(), rejected.body());
        assertEquals(before, dlqSize(), "4xx outcomes are the client's, not dead letters");
    }

    @Test
    void aStreamCutMidWayEndsWithAnErrorEventAndIsKept() throws Exception {
        env.upstream().cutAfterTokens(2);
        RawHttp.Response response;
        try (RawHttp http = RawHttp.postJson(env.gateway().port(), "/v1/chat/completions",
                "{\"model\":\"stream-cut\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"cut\"}]}")) {
            response = http.readAll();
        }
        assertEquals(200, response.status);
        List<String> events = response.events();
        assertTrue(events.get(events.size() - 1).contains("\"error\""), response.body);
        assertFalse(response.body.contains("[DONE]"), response.body);

        // the error event reaches the client before the DLQ entry is written
        JsonNode dlq = Await.value("the cut stream in the DLQ", DeadLetterChannelTest::dlq,
                list -> list.get("data").size() > 0, Duration.ofSeconds(5));
        JsonNode entry = dlq.get("data").get(0);
        assertEquals("stream-cut", entry.get("model").asText(), dlq.toString());
        assertTrue(entry.at("/request/stream").asBoolean(), dlq.toString());
    }

    private static JsonNode dlq() {
        try {
            return Json.MAPPER.readTree(env.gateway().get("/tasks/dlq").body());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static int dlqSize() throws Exception {
        HttpResponse<String> list = env.gateway().get("/tasks/dlq");
        assertEquals(200, list.statusCode(), list.body());
        JsonNode body = Json.MAPPER.readTree(list.body());
        assertEquals("list", body.get("object").asText());
        return body.get("data").size();
    }

    /** caravan_requests_total of a model and outcome in the Prometheus text (0 when absent). */
    static double requests(String metrics, String model, String outcome) {
        double total = 0;
        Matcher line = Pattern.compile("(?m)^caravan_requests_total\\{([^}]*)} (\\S+)$").matcher(metrics);
        while (line.find()) {
            String labels = line.group(1);
            if (labels.contains("model=\"" + model + "\"") && labels.contains("outcome=\"" + outcome + "\"")) {
                total += Double.parseDouble(line.group(2));
            }
        }
        return total;
    }
}
