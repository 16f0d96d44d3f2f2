package dev.caravan.observe;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.support.Calls;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.RawHttp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * "Why did my request go there" (issue 8 item 7): {@code x-caravan-debug: true} with the admin key returns the
 * request's steps with their times, the model asked and served, the lane wait, every upstream attempt (retries) and
 * the fallbacks taken: a {@code caravan_debug} field and an {@code x-caravan-debug} header on a JSON reply, an SSE
 * comment before [DONE] on a stream (which an SDK skips). Without the admin key: nothing at all.
 */
class DebugTraceTest {

    private static final String ADMIN_KEY = "sk-admin-debug-0123456789";
    private static final String ALICE_KEY = "sk-alice-debug-0123456789";

    static UpstreamEmulator upstream;
    static GatewayInstance gateway;

    @BeforeAll
    static void start() {
        upstream = UpstreamEmulator.start();
        gateway = GatewayInstance.builder().config("""
                backends:
                  up: {type: openai, url: "%s"}
                  down: {type: openai, url: "http://127.0.0.1:%d"}
                models:
                  emu: {backend: up}
                  gone: {backend: down, fallbacks: [emu]}
                keys:
                  - {key: "%s", name: alice}
                """.formatted(upstream.baseUrl(), GatewayInstance.freePort(), ALICE_KEY))
                .property("gateway.admin-api-key", ADMIN_KEY)
                .property("gateway.retry.max-attempts", "2")
                .property("gateway.retry.base-delay-ms", "1")
                .property("gateway.retry.max-delay-ms", "5")
                .start();
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.close();
    }

    @AfterEach
    void clean() {
        upstream.reset();
    }

    @Test
    void aJsonReplySaysWhereTheRequestWentAndWhy() {
        upstream.failNext(1, 503); // the fallback's first call fails, its retry serves
        HttpResponse<String> reply = Calls.chat(gateway, "gone", "Authorization", "Bearer " + ALICE_KEY,
                "x-caravan-debug", "true", "x-caravan-admin-key", ADMIN_KEY, "x-request-id", "dbg-1");
        assertEquals(200, reply.statusCode(), reply.body());
        JsonNode body = Calls.json(reply.body());
        assertEquals("assistant", body.path("choices").path(0).path("message").path("role").asText(), reply.body());
        JsonNode trace = body.path("caravan_debug");
        assertEquals("dbg-1", trace.path("request_id").asText(), trace.toString());
        assertEquals("gone", trace.path("model_asked").asText());
        assertEquals("emu", trace.path("model").asText());
        assertEquals("up", trace.path("backend").asText());
        assertEquals("[\"gone@down\"]", trace.path("fallbacks").toString());
        assertTrue(trace.path("lane_wait_ms").asDouble(-1) >= 0, trace.toString());

        // each upstream call: the dead backend twice (a retry), then the fallback's 503 and its retry that served
        List<String> attempts = new ArrayList<>();
        trace.path("attempts").forEach(a -> attempts.add(a.path("attempt").asInt() + ":" + a.path("model").asText()
                + "@" + a.path("backend").asText() + ":" + a.path("outcome").asText()));
        assertEquals(4, attempts.size(), attempts.toString());
        assertTrue(attempts.get(0).startsWith("1:gone@down:"), attempts.toString());
        assertTrue(attempts.get(1).startsWith("2:gone@down:"), attempts.toString());
        assertTrue(attempts.get(2).startsWith("1:emu@up:502"), attempts.toString()); // the client's view of it
        assertEquals(503, trace.path("attempts").path(2).path("upstream_status").asInt(), trace.toString());
        assertEquals("2:emu@up:ok", attempts.get(3));
        assertTrue(trace.path("attempts").path(0).has("retry_in_ms"), trace.toString());
        assertTrue(trace.path("attempts").path(3).path("ms").asDouble(-1) >= 0, trace.toString());

        // the steps, by route and id, with their times: the pre-hooks, the router's fallback, both lanes
        List<String> steps = steps(trace);
        for (String step : List.of("pre-hooks/auth", "pre-hooks/validate", "pre-hooks/rate-limit",
                "pre-hooks/pipeline-inlets", "pipeline/direct:mid-hooks", "router/next-fallback",
                "lane-down/acquire-down", "lane-up/acquire-up", "backend-openai/openai-call")) {
            assertTrue(steps.contains(step), step + " in " + steps);
        }
        JsonNode auth = find(trace, "pre-hooks", "auth");
        assertTrue(auth.path("at_ms").asDouble(-1) >= 0 && auth.path("ms").asDouble(-1) >= 0, auth.toString());
        assertTrue(trace.path("ms").asDouble() > 0, trace.toString());

        String header = reply.headers().firstValue("x-caravan-debug").orElseThrow();
        assertTrue(header.startsWith("asked=gone; served=emu@up; fallbacks=gone@down;"), header);
        assertTrue(header.contains("2:emu@up:ok:") && header.contains("pre-hooks/auth:"), header);
    }

    @Test
    void aStreamEndsWithTheTraceAsACommentThatAnSdkSkips() throws Exception {
        upstream.failNext(1, 502);
        RawHttp.Response stream = Calls.stream(gateway, "emu", "x-api-key: " + ALICE_KEY,
                "x-caravan-debug: true", "x-caravan-admin-key: " + ADMIN_KEY);
        assertEquals(200, stream.status, stream.body);
        assertTrue(stream.headers.entrySet().stream().anyMatch(h -> h.getKey().equalsIgnoreCase("x-caravan-debug")
                && h.getValue().contains("served=emu@up")), stream.headers.toString());

        // as OpenAI's SDKs read SSE: comment lines (": ...") skipped, each data payload a chunk until [DONE]
        StringBuilder text = new StringBuilder();
        boolean done = false;
        JsonNode trace = null;
        for (String line : stream.body.split("\n")) {
            if (line.startsWith(": caravan_debug ")) {
                assertFalse(done, "the trace comes before [DONE]");
                trace = Calls.json(line.substring(": caravan_debug ".length()));
            }
            if (line.isEmpty() || line.startsWith(":")) {
                continue;
            }
            assertTrue(line.startsWith("data: "), line);
            String data = line.substring(6);
            if (data.equals("[DONE]")) {
                done = true;
                continue;
            }
            JsonNode chunk = Calls.json(data);
            assertEquals("chat.completion.chunk", chunk.path("object").asText(), data);
            chunk.path("choices").forEach(c -> text.append(c.path("delta").path("content").asText("")));
        }
        assertTrue(done, stream.body);
        assertEquals(UpstreamEmulator.DEFAULT_REPLY, text.toString());
        assertNotNull(trace, stream.body);
        assertEquals("emu", trace.path("model").asText());
        assertEquals("[]", trace.path("fallbacks").toString());
        assertEquals(1, trace.path("attempts").path(0).path("attempt").asInt(), trace.toString());
        assertEquals(502, trace.path("attempts").path(0).path("upstream_status").asInt(), trace.toString());
        assertTrue(trace.path("attempts").path(0).has("retry_in_ms"), trace.toString());
        assertEquals("in_progress", trace.path("attempts").path(1).path("outcome").asText(), trace.toString());
        assertTrue(trace.path("first_token_ms").asDouble(-1) >= 0, trace.toString());
        assertTrue(steps(trace).contains("pre-hooks/auth"), trace.toString());
    }

    @Test
    void anErrorReplyCarriesItsTraceToo() {
        HttpResponse<String> reply = Calls.chat(gateway, "no-such-model", "Authorization", "Bearer " + ALICE_KEY,
                "x-caravan-debug", "true", "x-caravan-admin-key", ADMIN_KEY);
        assertEquals(404, reply.statusCode(), reply.body());
        JsonNode body = Calls.json(reply.body());
        assertEquals("model_not_found", body.path("error").path("code").asText());
        JsonNode resolve = find(body.path("caravan_debug"), "model-lookup", "resolve-model");
        assertTrue(resolve.path("failed").asText().startsWith("404 model_not_found"), body.toString());
        assertTrue(reply.headers().firstValue("x-caravan-debug").isPresent());
    }

    @Test
    void withoutTheAdminKeyTheHeaderIsIgnored() throws Exception {
        for (String[] headers : List.of(
                new String[] {"Authorization", "Bearer " + ALICE_KEY, "x-caravan-debug", "true"},
                new String[] {"Authorization", "Bearer " + ALICE_KEY, "x-caravan-debug", "true",
                        "x-caravan-admin-key", "sk-not-the-admin"},
                new String[] {"Authorization", "Bearer " + ALICE_KEY, "x-caravan-debug", "true",
                        "x-caravan-admin-key", ALICE_KEY})) {
            HttpResponse<String> reply = Calls.chat(gateway, "gone", headers);
            assertEquals(200, reply.statusCode(), reply.body());
            assertFalse(reply.body().contains("caravan_debug"), reply.body());
            assertFalse(reply.body().contains("gone@down"), reply.body());
            assertTrue(reply.headers().firstValue("x-caravan-debug").isEmpty(), reply.headers().toString());
        }
        RawHttp.Response stream = Calls.stream(gateway, "emu", "x-api-key: " + ALICE_KEY, "x-caravan-debug: true");
        assertEquals(200, stream.status);
        assertFalse(stream.body.contains("caravan_debug"), stream.body);
        assertNull(stream.headers.get("x-caravan-debug"), stream.headers.toString());
        // and a request that never asked has none either, admin key or not
        HttpResponse<String> plain = Calls.chat(gateway, "emu", "Authorization", "Bearer " + ALICE_KEY,
                "x-caravan-admin-key", ADMIN_KEY);
        assertFalse(plain.body().contains("caravan_debug"), plain.body());
    }

    @Test
    void withAuthOffAndNoAdminKeyAnyCallerMayAsk() throws Exception {
        // no key configured at all: the gateway listens on loopback only (unless HOST says otherwise), and whoever
        // reaches it may call the admin endpoints; the debug header follows the same rule (AdminAuth)
        try (GatewayInstance open = GatewayInstance.builder().config("""
                backends:
                  up: {type: openai, url: "%s"}
                models:
                  emu: {backend: up}
                """.formatted(upstream.baseUrl())).start()) {
            HttpResponse<String> reply = Calls.chat(open, "emu", "x-caravan-debug", "true");
            assertEquals(200, reply.statusCode(), reply.body());
            assertEquals("emu", Calls.json(reply.body()).path("caravan_debug").path("model").asText(), reply.body());
            // NDJSON: every line is a chunk, so no trace line in the body; the stream's head has the header
            try (RawHttp http = RawHttp.postJson(open.port(), "/v1/chat/completions/stream", Calls.body("emu", true),
                    "x-caravan-debug: true")) {
                RawHttp.Response ndjson = http.readAll();
                assertEquals(200, ndjson.status);
                assertTrue(ndjson.headers.entrySet().stream().anyMatch(h -> h.getKey().equalsIgnoreCase(
                        "x-caravan-debug") && h.getValue().contains("served=emu@up")), ndjson.headers.toString());
                for (String line : ndjson.body.split("\n")) {
                    if (!line.isBlank()) {
                        assertTrue(Calls.json(line).has("choices"), line);
                    }
                }
            }
        }
    }

    private static List<String> steps(JsonNode trace) {
        List<String> steps = new ArrayList<>();
        trace.path("steps").forEach(s -> steps.add(s.path("route").asText() + "/" + s.path("step").asText()));
        return steps;
    }

    private static JsonNode find(JsonNode trace, String route, String step) {
        for (JsonNode s : trace.path("steps")) {
            if (s.path("route").asText().equals(route) && s.path("step").asText().equals(step)) {
                return s;
            }
        }
        throw new AssertionError(route + "/" + step + " not in " + trace);
    }
}
