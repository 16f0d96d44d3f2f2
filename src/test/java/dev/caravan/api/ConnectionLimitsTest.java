package dev.caravan.api;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.support.Calls;
import dev.caravan.support.EmulatedGateway;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.RawHttp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Connections are bounded in time and number, over raw sockets: a silent connection, a dribbling request head, a
 * dribbling body and an idle keep-alive are closed after their deadlines (short ones here), a request that waits
 * quietly for its upstream is not; beyond the connection cap a request gets 503 and its connection is closed; and
 * requests Netty cannot parse (414, 431, bad escapes, bad chunking) get OpenAI error JSON.
 */
class ConnectionLimitsTest {

    private static final Duration LONG_ENOUGH = Duration.ofSeconds(5);

    @RegisterExtension
    static final EmulatedGateway env = EmulatedGateway.withConfig(url -> """
            backends:
              vllm: {type: openai, url: "%s"}
            models:
              gpt-emu: {backend: vllm}
            """.formatted(url))
            .property("gateway.edge.header-timeout-ms", "600")
            .property("gateway.edge.body-timeout-ms", "800")
            .property("gateway.edge.idle-timeout-ms", "600");

    private int port() {
        return env.gateway().port();
    }

    @Test
    void aSilentConnectionIsClosedAfterTheHeaderTimeout() throws IOException {
        try (RawHttp http = RawHttp.connect(port())) {
            long start = System.nanoTime();
            assertTrue(http.closedWithin(LONG_ENOUGH), "a connection that sends nothing is closed");
            assertTrue(Calls.millisSince(start) >= 500, "not before the header timeout");
        }
    }

    @Test
    void aDribblingRequestHeadIsCut() throws IOException {
        try (RawHttp http = RawHttp.connect(port())) {
            http.write("GET /health HTTP/1.1\r\nHost: x\r\n");
            boolean cut = false;
            long end = System.nanoTime() + Duration.ofSeconds(3).toNanos();
            try {
                while (System.nanoTime() < end) {
                    http.write("X-Slow: a\r\n"); // a header line every 100 ms: never idle, never done
                    LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
                }
            } catch (IOException e) {
                cut = true; // the server closed while we were still writing
            }
            assertTrue(cut || http.closedWithin(Duration.ofMillis(500)), "a head still dribbling after 3 s is cut");
        }
    }

    @Test
    void aDribblingBodyIsCutWith408() throws Exception {
        try (RawHttp http = RawHttp.connect(port())) {
            http.write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 1000\r\n\r\n{");
            Thread dribbler = new Thread(() -> {
                try {
                    for (int i = 0; i < 30; i++) {
                        http.write(" ");
                        LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
                    }
                } catch (IOException closed) {
                    // the server cut the body: what this test wants
                }
            });
            dribbler.start();
            RawHttp.Response response = http.readAll();
            assertEquals(408, response.status, response.body);
            assertError(response.body, "request_timeout");
            assertTrue(response.headers.get("x-request-id").startsWith("req_"), "every reply carries x-request-id");
            assertTrue(http.closedWithin(LONG_ENOUGH));
            dribbler.join();
        }
    }

    @Test
    void anIdleKeepAliveConnectionIsClosedAndAQuietRequestIsNot() throws IOException {
        env.upstream().firstTokenDelayMs(1500); // longer than every edge timeout, and nothing is written meanwhile
        try (RawHttp http = RawHttp.connect(port())) {
            String body = Calls.body("gpt-emu", false);
            http.write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n" + body);
            RawHttp.Response response = http.readAll();
            assertEquals(200, response.status, response.body);
            long answered = System.nanoTime();
            assertTrue(http.closedWithin(LONG_ENOUGH), "the idle keep-alive connection is closed");
            assertTrue(Calls.millisSince(answered) >= 500, "not before the idle timeout");
        }
    }

    @Test
    void anExpectContinueRequestIsAnsweredAndItsConnectionStillGoesIdle() throws IOException {
        try (RawHttp http = RawHttp.connect(port())) {
            String body = Calls.body("gpt-emu", false);
            http.write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Expect: 100-continue\r\nContent-Length: " + body.length() + "\r\n\r\n");
            RawHttp.Response interim = http.readHead();
            assertEquals(100, interim.status);
            http.write(body);
            RawHttp.Response response = http.readAll();
            assertEquals(200, response.status, response.body);
            assertTrue(http.closedWithin(LONG_ENOUGH), "the interim 100 does not count as the reply");
        }
    }

    @Test
    void aKeepAliveConnectionServesSeveralRequests() throws IOException {
        try (RawHttp http = RawHttp.connect(port())) {
            for (int i = 0; i < 3; i++) {
                http.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(200, http.readAll().status);
            }
        }
    }

    @Test
    void anOverlongRequestLineGets414Json() throws IOException {
        assertProtocolError("GET /v1/models?q=" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414);
    }

    @Test
    void overlargeHeadersGet431Json() throws IOException {
        assertProtocolError("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(20_000) + "\r\n\r\n", 431);
    }

    @Test
    void badEscapesInThePathOrQueryGet400Json() throws IOException {
        for (String target : List.of("/v1/models/%zz", "/health?x=%zz", "/v1/chat/completions%")) {
            try (RawHttp http = RawHttp.connect(port())) {
                http.write("GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                RawHttp.Response response = http.readAll();
                assertTrue(response.status == 400 || response.status == 404, target + ": " + response.status);
                assertNotNull(Calls.json(response.body).get("error"), target + ": " + response.body);
            }
        }
    }

    @Test
    void badChunkedEncodingGets400JsonOrAClose() throws IOException {
        try (RawHttp http = RawHttp.connect(port())) {
            http.write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
            RawHttp.Response response = http.readAll();
            assertEquals(400, response.status, response.body);
            assertError(response.body, null);
            assertTrue(http.closedWithin(LONG_ENOUGH));
        }
    }

    @Test
    void beyondTheConnectionCapARequestGets503AndAClose() throws IOException {
        try (UpstreamEmulator upstream = UpstreamEmulator.start();
             GatewayInstance gateway = GatewayInstance.builder()
                     .property("gateway.edge.max-connections", "3").start()) {
            List<RawHttp> held = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    // answered once, so counted: connections land on several event loops, and an accept on one may
                    // otherwise be counted after a later connect on another
                    RawHttp http = RawHttp.connect(gateway.port());
                    held.add(http);
                    http.write("GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n");
                    assertEquals(200, http.readHead().status);
                }
                try (RawHttp extra = RawHttp.connect(gateway.port())) {
                    extra.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
                    RawHttp.Response refused = extra.readAll();
                    assertEquals(503, refused.status, refused.body);
                    assertEquals("1", refused.headers.get("retry-after"));
                    assertError(refused.body, null);
                    assertTrue(extra.closedWithin(LONG_ENOUGH));
                }
                held.remove(0).close();
                assertTrue(UpstreamEmulator.await(() -> healthStatus(gateway) == 200, LONG_ENOUGH),
                        "a freed connection makes room again");
            } finally {
                for (RawHttp http : held) {
                    http.close();
                }
            }
        }
    }

    private static int healthStatus(GatewayInstance gateway) {
        try (RawHttp http = RawHttp.connect(gateway.port())) {
            http.write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            return http.readAll().status;
        } catch (IOException e) {
            return -1;
        }
    }

    private void assertProtocolError(String raw, int status) throws IOException {
        try (RawHttp http = RawHttp.connect(port())) {
            http.write(raw);
            RawHttp.Response response = http.readAll();
            assertEquals(status, response.status, response.body);
            assertError(response.body, null);
            assertTrue(http.closedWithin(LONG_ENOUGH));
        }
        assertEquals(200, healthStatus(env.gateway()), "the gateway still answers");
    }

    private static void assertError(String body, String code) {
        JsonNode error = Calls.json(body).get("error");
        assertNotNull(error, body);
        for (String field : List.of("message", "type", "param", "code")) {
            assertTrue(error.has(field), field + " in " + body);
        }
        if (code != null) {
            assertEquals(code, error.get("code").asText(), body);
        }
        assertFalse(body.contains("Exception"), body);
    }
}
