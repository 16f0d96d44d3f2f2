package dev.caravan.resilience;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.support.Calls;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.RawHttp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static dev.caravan.support.Calls.chat;
import static dev.caravan.support.Calls.chatAsync;
import static dev.caravan.support.Calls.errorCode;
import static dev.caravan.support.Calls.health;
import static dev.caravan.support.Calls.json;
import static dev.caravan.support.Calls.lane;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model's fallbacks serve when its backend is down, keeps failing after its retries, or has its circuit open —
 * through their own backend's lane, before anything reached the client, never for a bad request. The models of
 * backend p share the "primary" upstream but each has its own circuit (per backend and upstream model), so one
 * test's failures do not open another's.
 */
class FallbackTest {

    static UpstreamEmulator primary;
    static UpstreamEmulator backup;
    static GatewayInstance gateway;

    @BeforeAll
    static void start() {
        primary = UpstreamEmulator.start();
        backup = UpstreamEmulator.start();
        String p = primary.baseUrl();
        gateway = GatewayInstance.builder().config("""
                backends:
                  p: {type: openai, url: "%1$s", max-concurrent: 1}
                  down1: {type: openai, url: "http://127.0.0.1:%3$d"}
                  down2: {type: openai, url: "http://127.0.0.1:%4$d"}
                  down3: {type: openai, url: "http://127.0.0.1:%5$d"}
                  down4: {type: openai, url: "http://127.0.0.1:%6$d"}
                  down5: {type: openai, url: "http://127.0.0.1:%7$d", max-concurrent: 2}
                  backup: {type: openai, url: "%2$s"}
                models:
                  backup-model: {backend: backup, upstream-model: backup-upstream}
                  failing-then-fine: {backend: p, fallbacks: [backup-model]}
                  tripped: {backend: p, fallbacks: [backup-model]}
                  picky: {backend: p, fallbacks: [backup-model]}
                  cut: {backend: p, fallbacks: [backup-model]}
                  refused-stream: {backend: p, fallbacks: [backup-model]}
                  gone: {backend: down1, fallbacks: [backup-model]}
                  also-gone: {backend: down2}
                  chain: {backend: down1, fallbacks: [also-gone, backup-model]}
                  doomed: {backend: down3, fallbacks: [doomed-too]}
                  doomed-too: {backend: down4}
                  crowd: {backend: down5, fallbacks: [backup-model]}
                """.formatted(p, backup.baseUrl(), GatewayInstance.freePort(), GatewayInstance.freePort(),
                        GatewayInstance.freePort(), GatewayInstance.freePort(), GatewayInstance.freePort()))
                .property("gateway.retry.max-attempts", "3")
                .property("gateway.retry.base-delay-ms", "5")
                .property("gateway.circuit.minimum-calls", "4")
                .property("gateway.circuit.sliding-window-size", "4")
                .property("gateway.circuit.failure-rate-threshold", "50")
                .property("gateway.circuit.wait-in-open-ms", "60000")
                .start();
    }

    @AfterAll
    static void stop() {
        gateway.close();
        primary.close();
        backup.close();
    }

    @BeforeEach
    void reset() {
        primary.reset();
        backup.reset();
    }

    @Test
    void aBackendThatIsDownHandsOverToTheFallback() {
        HttpResponse<String> response = chat(gateway, "gone");
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("backup", response.headers().firstValue("x-caravan-backend").orElse(null));
        assertEquals("backup-model", json(response.body()).path("model").asText(), "the model that served");
        assertEquals(1, backup.requests());
        assertEquals("backup-upstream", backup.lastRequestBody().getString("model"));
    }

    @Test
    void fallbacksAreTriedInOrder() {
        HttpResponse<String> response = chat(gateway, "chain");
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("backup", response.headers().firstValue("x-caravan-backend").orElse(null));
        assertEquals(1, backup.requests());
    }

    @Test
    void aBackendFailingAfterItsRetriesHandsOverAndItsLaneSlotIsFreedAtOnce() throws Exception {
        primary.failNext(3, 500);
        backup.tokenDelayMs(150); // the fallback's stream lasts a while
        try (RawHttp client = RawHttp.postJson(gateway.port(), "/v1/chat/completions",
                Calls.body("failing-then-fine", true))) {
            RawHttp.Response head = client.readHead();
            assertEquals(200, head.status);
            assertEquals("backup", head.headers.get("x-caravan-backend"));
            assertEquals(3, primary.requests(), "the primary had its three attempts");
            assertEquals(1, backup.requests());
            // the stream runs on the backup; p's only slot is free again meanwhile
            assertEquals(0, lane(gateway, "p").path("in_flight").asInt());
            assertEquals(1, lane(gateway, "backup").path("in_flight").asInt());
            HttpResponse<String> next = chat(gateway, "failing-then-fine");
            assertEquals(200, next.statusCode(), next.body());
            assertEquals("p", next.headers().firstValue("x-caravan-backend").orElse(null), "p serves again");
            assertFalse(backup.inFlight() == 0, "while the fallback's stream still runs");
            String line;
            StringBuilder rest = new StringBuilder();
            while ((line = client.readLine()) != null) {
                rest.append(line).append('\n');
            }
            assertTrue(rest.toString().contains("data: [DONE]"), rest.toString());
            assertTrue(rest.toString().contains("\"model\":\"backup-model\""), rest.toString());
        }
    }

    @Test
    void anOpenCircuitGoesStraightToTheFallbackWithoutTouchingThePrimary() {
        primary.failNext(100, 500);
        assertEquals(200, chat(gateway, "tripped").statusCode()); // 3 failed calls, then the backup
        assertEquals(200, chat(gateway, "tripped").statusCode()); // a 4th failure opens tripped's circuit
        assertEquals("open", health(gateway, "p").path("circuit").asText());
        assertEquals("open", health(gateway, "p").path("circuit_models").path("tripped").asText());

        primary.reset();
        backup.reset();
        HttpResponse<String> response = chat(gateway, "tripped");
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("backup", response.headers().firstValue("x-caravan-backend").orElse(null));
        assertEquals(0, primary.requests(), "the open circuit kept the request off the primary");
        assertEquals(1, backup.requests());
    }

    @Test
    void aBadRequestDoesNotFallBack() {
        primary.failNext(1, 400);
        HttpResponse<String> response = chat(gateway, "picky");
        assertEquals(400, response.statusCode(), response.body());
        assertEquals("p", response.headers().firstValue("x-caravan-backend").orElse(null));
        assertEquals(0, backup.requests());
    }

    @Test
    void aStreamThatReachedTheClientDoesNotFallBack() throws Exception {
        primary.cutAfterTokens(2);
        RawHttp.Response response = Calls.stream(gateway, "cut");
        assertEquals(200, response.status);
        assertEquals("p", response.headers.get("x-caravan-backend"));
        List<String> events = response.events();
        assertFalse(events.contains("[DONE]"), response.body);
        assertTrue(Calls.lastEvent(response).has("error"), response.body);
        assertEquals(1, primary.requests());
        assertEquals(0, backup.requests(), "no second answer is spliced into a started stream");
    }

    @Test
    void aStreamRefusedBeforeItsFirstByteIsServedByTheFallback() throws Exception {
        primary.failNext(3, 503);
        RawHttp.Response response = Calls.stream(gateway, "refused-stream");
        assertEquals(200, response.status);
        assertEquals("backup", response.headers.get("x-caravan-backend"));
        List<String> events = response.events();
        assertEquals("[DONE]", events.get(events.size() - 1), response.body);
        assertEquals("backup-model", json(events.get(0)).path("model").asText());
        assertEquals(3, primary.requests());
        assertEquals(1, backup.requests());
    }

    @Test
    void whenEveryModelFailsTheClientGetsTheRequestedModelsErrorNamingTheFallbacks() {
        HttpResponse<String> response = chat(gateway, "doomed");
        assertEquals(502, response.statusCode(), response.body());
        assertEquals("upstream_error", errorCode(response));
        String message = json(response.body()).at("/error/message").asText();
        assertTrue(message.contains("cannot be reached") && message.contains("'doomed-too' on backend 'down4'"), message);
        assertEquals("down3", response.headers().firstValue("x-caravan-backend").orElse(null));
    }

    @Test
    void concurrentFallbacksFromAQueuedLaneLeaveNoSlotBehind() {
        // 8 requests on a 2-slot lane whose backend is down: they queue, fail, hand over, free their slots early
        List<CompletableFuture<HttpResponse<String>>> replies = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            replies.add(chatAsync(gateway, "crowd"));
        }
        for (CompletableFuture<HttpResponse<String>> reply : replies) {
            HttpResponse<String> response = reply.join();
            assertEquals(200, response.statusCode(), response.body());
            assertEquals("backup", response.headers().firstValue("x-caravan-backend").orElse(null));
        }
        assertEquals(8, backup.requests());
        JsonNode down = lane(gateway, "down5");
        assertEquals(0, down.path("in_flight").asInt(), "no slot released twice or not at all: " + down);
        assertEquals(0, down.path("waiting").path("total").asInt());
        assertTrue(UpstreamEmulator.await(() -> lane(gateway, "backup").path("in_flight").asInt() == 0,
                Duration.ofSeconds(5)));
    }
}
