package dev.caravan.api;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.support.Calls;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.RawHttp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What is refused from the request head alone, with auth on, before the body is read: no key or a wrong key with
 * a body (401 at once, connection closed, body never buffered), two Authorization or x-api-key headers (400),
 * a Content-Encoding (415), and requests beyond the in-flight body budget (503). Client headers named like
 * Camel's own never steer the reply.
 */
class EdgeGateTest {

    private static final String KEY = "sk-edge-0123456789";
    private static final String CHAT = "/v1/chat/completions";

    static GatewayInstance gateway;

    @BeforeAll
    static void start() {
        gateway = GatewayInstance.builder()
                .property("gateway.api-keys-json", "[{\"key\":\"" + KEY + "\",\"name\":\"edge\",\"models\":[\"*\"]}]")
                .property("gateway.edge.max-inflight-body-bytes", "4096")
                .property("gateway.local.token-delay-ms", "20") // caravan-echo streams slowly enough to leave one
                .start();
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void anUnauthenticatedUploadGets401AtOnceAndItsBodyIsNeverRead() throws IOException {
        for (String auth : new String[] {null, "Authorization: Bearer sk-wrong", "x-api-key: sk-wrong"}) {
            try (RawHttp http = RawHttp.connect(gateway.port())) {
                // 8,000,000 bytes announced, 1 KiB sent: the gateway must answer without waiting for the rest
                http.write("POST " + CHAT + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + (auth == null ? "" : auth + "\r\n") + "Content-Length: 8000000\r\n\r\n");
                http.write(new byte[1024]);
                long start = System.nanoTime();
                RawHttp.Response response = http.readAll();
                assertEquals(401, response.status, auth + ": " + response.body);
                assertEquals("invalid_api_key", Calls.json(response.body).at("/error/code").asText());
                assertTrue(Calls.millisSince(start) < 5_000, "answered at once");
                assertTrue(http.closedWithin(Duration.ofSeconds(5)), "the connection is closed, the body not drained");
            }
        }
    }

    @Test
    void aValidKeyPassesTheEdge() {
        assertEquals(200, Calls.chat(gateway, "caravan-echo", "Authorization", "Bearer " + KEY).statusCode());
        assertEquals(200, Calls.chat(gateway, "caravan-echo", "x-api-key", KEY).statusCode());
    }

    @Test
    void twoAuthorizationHeadersOrTwoApiKeyHeadersGet400() throws IOException {
        String[][] cases = {
                {"Authorization: Bearer " + KEY, "Authorization: Bearer " + KEY},
                {"x-api-key: " + KEY, "x-api-key: sk-other"},
        };
        for (String[] headers : cases) {
            RawHttp.Response response = Calls.rawChat(gateway, Calls.body("caravan-echo", false), headers);
            assertEquals(400, response.status, Arrays.toString(headers) + ": " + response.body);
            assertEquals("invalid_request_error", Calls.json(response.body).at("/error/type").asText());
        }
    }

    @Test
    void aCompressedBodyGets415() throws IOException {
        RawHttp.Response response = Calls.rawChat(gateway, Calls.body("caravan-echo", false),
                "Authorization: Bearer " + KEY, "Content-Encoding: gzip");
        assertEquals(415, response.status, response.body);
        assertEquals("unsupported_content_encoding", Calls.json(response.body).at("/error/code").asText());
        RawHttp.Response identity = Calls.rawChat(gateway, Calls.body("caravan-echo", false),
                "Authorization: Bearer " + KEY, "Content-Encoding: identity");
        assertEquals(200, identity.status, identity.body);
    }

    @Test
    void camelHeadersFromAClientNeverSetTheReplyOrHangIt() throws IOException {
        for (String value : new String[] {"299", "not-a-number"}) {
            RawHttp.Response chat = Calls.rawChat(gateway, Calls.body("caravan-echo", false),
                    "Authorization: Bearer " + KEY, "CamelHttpResponseCode: " + value,
                    "camelhttpuri: http://example.invalid", "org.apache.camel.Foo: x");
            assertEquals(200, chat.status, value + ": " + chat.body);
            try (RawHttp http = RawHttp.connect(gateway.port())) {
                http.write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCAMELHTTPRESPONSECODE: " + value
                        + "\r\n\r\n");
                assertEquals(200, http.readAll().status, value);
            }
        }
    }

    @Test
    void bodiesBeyondTheInFlightBudgetGet503UntilOneEnds() throws IOException {
        try (RawHttp holder = RawHttp.connect(gateway.port())) {
            // 3,000 of the 4,096 budget bytes announced and held: the body never completes
            holder.write("POST " + CHAT + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer " + KEY + "\r\nContent-Length: 3000\r\n\r\n{");
            assertTrue(UpstreamEmulator.await(() -> status(big()) == 503, Duration.ofSeconds(5)),
                    "a second large body does not fit beside the held one");
            RawHttp.Response refused = bigResponse();
            assertEquals("1", refused.headers.get("retry-after"));
            JsonNode error = Calls.json(refused.body).get("error");
            assertTrue(error.get("message").asText().contains("MAX_INFLIGHT_BODY_BYTES"), refused.body);
            assertEquals(200, Calls.chat(gateway, "caravan-echo", "Authorization", "Bearer " + KEY).statusCode(),
                    "a small body still fits");
        }
        assertTrue(UpstreamEmulator.await(() -> status(big()) != 503, Duration.ofSeconds(5)),
                "the held body's bytes are given back when its connection ends");
    }

    @Test
    void aClientThatLeavesMidStreamGivesItsBodyBytesBack() throws IOException {
        String words = "word ".repeat(500); // echoed back token by token: a stream of several seconds
        String body = Calls.body("caravan-echo", true, words);
        for (int i = 0; i < 3; i++) { // three times the budget in all: each must have been given back
            try (RawHttp http = RawHttp.postJson(gateway.port(), CHAT, body, "Authorization: Bearer " + KEY)) {
                assertEquals(200, http.readHead().status);
                http.readLine(); // the stream has begun; now leave
            }
            assertTrue(UpstreamEmulator.await(() -> status(big()) != 503, Duration.ofSeconds(5)),
                    "the left stream's bytes are back, round " + i);
        }
    }

    /** A 2,000-byte chat body (padded with spaces): over what is left of the budget while 3,000 are held. */
    private static String big() {
        String body = Calls.body("caravan-echo", false);
        return body.substring(0, body.length() - 1) + " ".repeat(2000 - body.length()) + "}";
    }

    private static int status(String body) {
        try {
            return Calls.rawChat(gateway, body, "Authorization: Bearer " + KEY).status;
        } catch (IOException e) {
            return -1;
        }
    }

    private static RawHttp.Response bigResponse() throws IOException {
        return Calls.rawChat(gateway, big(), "Authorization: Bearer " + KEY);
    }

    @Test
    void withAKeyAnOriginIsNotPolicedAndANonJsonPostGetsTheValidators415() throws IOException {
        byte[] body = Calls.body("caravan-echo", false).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (RawHttp http = RawHttp.post(gateway.port(), CHAT, "application/json", body,
                "Authorization: Bearer " + KEY, "Origin: http://evil.example")) {
            RawHttp.Response response = http.readAll();
            assertEquals(200, response.status, "a key proves intent: " + response.body);
        }
        try (RawHttp http = RawHttp.post(gateway.port(), CHAT, "text/plain", body, "Authorization: Bearer " + KEY)) {
            RawHttp.Response response = http.readAll();
            assertEquals(415, response.status, response.body);
        }
    }

    @Test
    void aGetWithoutKeyStillGetsItsUsual401() {
        var response = gateway.get("/v1/models");
        assertEquals(401, response.statusCode());
        assertNotEquals(null, Calls.json(response.body()).get("error"));
    }
}
