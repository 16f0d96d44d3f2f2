package dev.caravan.steps;

import java.io.IOException;
import java.net.http.HttpResponse;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.support.Await;
import dev.caravan.support.Calls;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.LogCapture;
import dev.caravan.support.RawHttp;
import dev.caravan.support.TestRoutes;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each hook step of the library through a real gateway, from YAML by its kamelet name, stream and non-stream: the
 * upstream emulator sees the reshaped request, the client the redacted answer or the step's 400. One gateway; the
 * client's header x-step picks which step runs in mid-hooks (a choice an operator could write as well).
 */
class HookStepsTest {

    private static final String MID_HOOKS = """
            - setProperty: {name: TestStep, simple: "${header.x-step}"}
            - choice:
                when:
                  - simple: "${exchangeProperty.TestStep} == 'sanitize'"
                    steps:
                      - to: {uri: "kamelet:sanitize-action", parameters: {max-message-chars: 60, max-total-chars: 100}}
                  - simple: "${exchangeProperty.TestStep} == 'policy-deny'"
                    steps:
                      - to: {uri: "kamelet:policy-action", parameters: {keywords: "project falcon, internal only"}}
                  - simple: "${exchangeProperty.TestStep} == 'policy-rewrite'"
                    steps:
                      - to:
                          uri: "kamelet:policy-action"
                          parameters: {regex: '(?i)\\bpass(word)?\\s*[:=]\\s*\\S+', mode: rewrite, replacement: "***"}
                  - simple: "${exchangeProperty.TestStep} == 'pii-redact'"
                    steps:
                      - to: {uri: "kamelet:pii-redact-action"}
                  - simple: "${exchangeProperty.TestStep} == 'intent'"
                    steps:
                      - to:
                          uri: "kamelet:intent-action"
                          parameters:
                            rules: 'coding=stack trace,compile,regex:(?i)\\b(java|python)\\b; chat=hello,thanks'
                            default-label: general
                      - choice:
                          when:
                            - simple: "${exchangeProperty.CaravanIntent} == 'coding'"
                              steps:
                                - transform: {jq: '.model = "model-a"'}
                          otherwise:
                            steps:
                              - transform: {jq: '.model = "model-b"'}
                  - simple: "${exchangeProperty.TestStep} == 'call-out'"
                    steps:
                      - to: {uri: "kamelet:call-out-action", parameters: {url: "%1$s/enrich", timeout-ms: 500}}
                  - simple: "${exchangeProperty.TestStep} == 'call-out-closed'"
                    steps:
                      - to: {uri: "kamelet:call-out-action", parameters: {url: "%1$s/enrich", timeout-ms: 500, fail-mode: closed}}
                  - simple: "${exchangeProperty.TestStep} == 'set-params'"
                    steps:
                      - to:
                          uri: "kamelet:set-params-action"
                          parameters: {models: "alias-a=model-b", defaults: "temperature=0.3", ceilings: "max_tokens=100"}
            """;
    /** The answer of a JSON reply, redacted before it is written (the README's example). */
    private static final String POST_HOOKS = """
            - filter:
                simple: "${exchangeProperty.TestStep} == 'pii-redact'"
                steps:
                  - to: {uri: "kamelet:pii-redact-action"}
            """;
    /** A streamed answer, chunk by chunk, matches across chunks included. */
    private static final String STREAM_HOOKS = """
            - filter:
                simple: "${exchangeProperty.TestStep} == 'pii-redact'"
                steps:
                  - to: {uri: "kamelet:pii-redact-action", parameters: {placeholder: "<{KIND}>"}}
            """;
    private static final String SECRET = "suite-secret";

    private static UpstreamEmulator upstream;
    private static CallOutReceiver receiver;
    private static GatewayInstance gateway;

    @BeforeAll
    static void start() throws IOException {
        upstream = UpstreamEmulator.start();
        receiver = CallOutReceiver.start(SECRET);
        TestRoutes routes = TestRoutes.copy()
                .append("30-mid-hooks.camel.yaml", MID_HOOKS.formatted(receiver.baseUrl()))
                .append("70-post-hooks.camel.yaml", POST_HOOKS)
                .append("65-stream-hooks.camel.yaml", STREAM_HOOKS);
        gateway = GatewayInstance.builder().config("""
                backends:
                  emu: {type: openai, url: "%s"}
                models:
                  model-a: {backend: emu}
                  model-b: {backend: emu}
                  alias-a: {backend: emu}
                  auto: {backend: emu}
                """.formatted(upstream.baseUrl()))
                .routes(routes.dir())
                .property("gateway.suite-shared-secret", SECRET)
                .start();
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.close();
        receiver.close();
    }

    @BeforeEach
    void reset() {
        upstream.reset();
        receiver.answer(200, "{}", 0);
    }

    @Test
    void sanitizeStripsControlCharactersBeforeTheUpstream() throws IOException {
        for (boolean stream : new boolean[] {false, true}) {
            int status = send("sanitize", Calls.body("model-a", stream, "a\\u0000b\\u0007c\\td"));
            assertEquals(200, status);
            assertEquals("a" + "bc\td", upstream.lastRequestBody().getJsonArray("messages").getJsonObject(0)
                    .getString("content"), "stream " + stream);
        }
    }

    @Test
    void sanitizeRefusesOversizeMessagesAndRolesOutOfOrder() throws IOException {
        for (boolean stream : new boolean[] {false, true}) {
            HttpResponse<String> big = post("sanitize", Calls.body("model-a", stream, "x".repeat(61)));
            assertEquals(400, big.statusCode(), big.body());
            assertEquals("messages[0].content", Calls.json(big.body()).at("/error/param").asText());
            HttpResponse<String> order = post("sanitize", "{\"model\":\"model-a\",\"stream\":" + stream
                    + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"system\",\"content\":\"s\"}]}");
            assertEquals(400, order.statusCode(), order.body());
            assertEquals("messages[1].role", Calls.json(order.body()).at("/error/param").asText());
            assertEquals("invalid_request_error", Calls.json(order.body()).at("/error/type").asText());
        }
        assertEquals(0, upstream.requests());
    }

    @Test
    void policyDeniesWithContentPolicy() {
        for (boolean stream : new boolean[] {false, true}) {
            HttpResponse<String> denied = post("policy-deny", Calls.body("model-a", stream, "Tell me about Project  Falcon"));
            assertEquals(400, denied.statusCode(), denied.body());
            JsonNode error = Calls.json(denied.body()).path("error");
            assertEquals("content_policy", error.path("code").asText());
            assertEquals("invalid_request_error", error.path("type").asText());
            assertFalse(denied.body().contains("Falcon"), "the refusal does not echo the matched text");
        }
        assertEquals(0, upstream.requests());
    }

    @Test
    void policyRewritesTheMatchedText() throws IOException {
        for (boolean stream : new boolean[] {false, true}) {
            assertEquals(200, send("policy-rewrite", Calls.body("model-a", stream, "login with password: hunter2 ok")));
            assertEquals("login with *** ok", lastContent(), "stream " + stream);
        }
    }

    @Test
    void piiIsRedactedInPromptsBeforeTheUpstream() throws IOException {
        for (boolean stream : new boolean[] {false, true}) {
            assertEquals(200, send("pii-redact", Calls.body("model-a", stream,
                    "I am jane@example.com, card 4111 1111 1111 1111, order 4111 1111 1111 1112")));
            assertEquals("I am [EMAIL], card [CARD], order 4111 1111 1111 1112", lastContent(), "stream " + stream);
        }
    }

    @Test
    void piiIsRedactedInAnswersJsonAndStreamedAcrossChunks() throws IOException {
        String answer = "Write to jane.doe@example.com or call +49 30 1234567; card 4111 1111 1111 1111, "
                + "IBAN DE89 3704 0044 0532 0130 00. Order 4111 1111 1111 1112 stays.";
        upstream.reply(answer);
        HttpResponse<String> json = post("pii-redact", Calls.body("model-a", false, "hi"));
        assertEquals(200, json.statusCode(), json.body());
        assertEquals("Write to [EMAIL] or call [PHONE]; card [CARD], IBAN [IBAN]. Order 4111 1111 1111 1112 stays.",
                Calls.json(json.body()).at("/choices/0/message/content").asText());

        // the emulator streams a word a chunk: the phone, card and IBAN each span several chunks
        RawHttp.Response stream = Calls.rawChat(gateway, Calls.body("model-a", true, "hi"), "x-step: pii-redact");
        assertEquals(200, stream.status);
        assertTrue(stream.body.contains("data: [DONE]"), stream.body);
        StringBuilder text = new StringBuilder();
        int contentChunks = 0;
        for (String event : stream.events()) {
            if (event.equals("[DONE]")) {
                continue;
            }
            JsonNode delta = Calls.json(event).at("/choices/0/delta/content");
            if (delta.isTextual()) {
                assertFalse(delta.asText().matches(".*(@|\\d{3}).*") && !delta.asText().contains("1112"),
                        "no piece of PII goes out: " + delta.asText());
                text.append(delta.asText());
                contentChunks++;
            }
        }
        assertEquals("Write to <EMAIL> or call <PHONE>; card <CARD>, IBAN <IBAN>. Order 4111 1111 1111 1112 stays.",
                text.toString());
        assertTrue(contentChunks > 5, "still a stream, not one held-back blob: " + contentChunks);
    }

    @Test
    void setParamsRewritesTheModelAndCapsParameters() throws IOException {
        for (boolean stream : new boolean[] {false, true}) {
            String body = "{\"model\":\"alias-a\",\"stream\":" + stream + ",\"max_tokens\":5000,"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
            assertEquals(200, send("set-params", body));
            JsonObject seen = upstream.lastRequestBody();
            assertEquals("model-b", seen.getString("model"), "stream " + stream);
            assertEquals(100, seen.getInteger("max_tokens"));
            assertEquals(0.3, seen.getDouble("temperature"));
        }
    }

    @Test
    void intentLabelsTheRequestRoutesItAndCountsIt() throws IOException {
        for (boolean stream : new boolean[] {false, true}) {
            assertEquals(200, send("intent", Calls.body("auto", stream, "Why does my Java code throw this?")));
            assertEquals("model-a", upstream.lastRequestBody().getString("model"), "stream " + stream);
            assertEquals(200, send("intent", Calls.body("auto", stream, "hello, how are you")));
            assertEquals("model-b", upstream.lastRequestBody().getString("model"), "stream " + stream);
            assertEquals(200, send("intent", Calls.body("auto", stream, "what is the weather")));
            assertEquals("model-b", upstream.lastRequestBody().getString("model"), "stream " + stream);
        }
        String metrics = gateway.get("/metrics").body();
        for (String label : new String[] {"coding", "chat", "general"}) {
            assertTrue(metrics.lines().anyMatch(l -> l.startsWith("caravan_intent_requests_total{")
                    && l.contains("intent=\"" + label + "\"")
                    && Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)) >= 2), label + ": " + metrics);
        }
    }

    @Test
    void theAccessLogCarriesTheIntent() throws IOException {
        org.apache.logging.log4j.core.config.Configurator.setLevel("dev.caravan.access",
                org.apache.logging.log4j.Level.INFO); // off by default; ACCESS_LOG_LEVEL=INFO turns it on
        try (LogCapture logs = LogCapture.install()) {
            assertEquals(200, send("intent", Calls.body("auto", false, "compile error in python")));
            String line = Await.value("the access line", () -> logs.find(c -> c.logger().equals("dev.caravan.access")),
                    l -> l != null, java.time.Duration.ofSeconds(10));
            assertTrue(line.contains(" asked=auto ") && line.contains(" model=model-a ") && line.contains(" status=200 ")
                    && line.endsWith(" intent=coding"), line);
        } finally {
            org.apache.logging.log4j.core.config.Configurator.setLevel("dev.caravan.access",
                    org.apache.logging.log4j.Level.WARN);
        }
    }

    @Test
    void callOutSignsTheConversationAndMergesTheAnswer() throws IOException {
        receiver.answer(200, "{\"system\":\"The user prefers short answers.\",\"set\":{\"temperature\":0.2}}", 0);
        for (boolean stream : new boolean[] {false, true}) {
            assertEquals(200, send("call-out", Calls.body("model-a", stream, "hi there")));
            JsonObject seen = upstream.lastRequestBody();
            assertEquals("system", seen.getJsonArray("messages").getJsonObject(0).getString("role"));
            assertEquals("The user prefers short answers.",
                    seen.getJsonArray("messages").getJsonObject(0).getString("content"));
            assertEquals("hi there", seen.getJsonArray("messages").getJsonObject(1).getString("content"));
            assertEquals(0.2, seen.getDouble("temperature"));
            CallOutReceiver.Call call = receiver.last();
            assertTrue(call.signatureValid(), "the HMAC a receiver computes matches: " + call);
            JsonNode sent = Calls.json(call.body());
            assertEquals("model-a", sent.path("model").asText());
            assertEquals("hi there", sent.at("/messages/0/content").asText());
            assertFalse(sent.path("request_id").asText().isEmpty());
        }
    }

    @Test
    void callOutDeniesOnTheServicesVerdict() {
        receiver.answer(200, "{\"verdict\":\"deny\",\"reason\":\"not on a school night\"}", 0);
        for (boolean stream : new boolean[] {false, true}) {
            HttpResponse<String> denied = post("call-out", Calls.body("model-a", stream, "hi"));
            assertEquals(400, denied.statusCode(), denied.body());
            assertEquals("content_policy", Calls.errorCode(denied));
            assertTrue(denied.body().contains("not on a school night"), denied.body());
        }
        assertEquals(0, upstream.requests());
    }

    @Test
    void aLateOrBrokenServiceIsSkippedFailOpenAndFailsTheRequestFailClosed() throws IOException {
        receiver.answer(200, "{\"system\":\"late\"}", 1500);
        for (boolean stream : new boolean[] {false, true}) {
            long start = System.nanoTime();
            assertEquals(200, send("call-out", Calls.body("model-a", stream, "hi")));
            assertTrue(Calls.millisSince(start) < 1400, "the timeout, not the service, decides");
            assertEquals("user", upstream.lastRequestBody().getJsonArray("messages").getJsonObject(0).getString("role"));
            HttpResponse<String> closed = post("call-out-closed", Calls.body("model-a", stream, "hi"));
            assertEquals(503, closed.statusCode(), closed.body());
            assertEquals("call_out_unavailable", Calls.errorCode(closed));
        }
        receiver.answer(500, "oops", 0);
        for (boolean stream : new boolean[] {false, true}) {
            assertEquals(200, send("call-out", Calls.body("model-a", stream, "hi")));
            HttpResponse<String> closed = post("call-out-closed", Calls.body("model-a", stream, "hi"));
            assertEquals(502, closed.statusCode(), closed.body());
            assertEquals("call_out_failed", Calls.errorCode(closed));
        }
    }

    private String lastContent() {
        return upstream.lastRequestBody().getJsonArray("messages").getJsonObject(0).getString("content");
    }

    /** Status of a chat, streamed or not as the body says; a stream is read to its end and must end cleanly. */
    private static int send(String step, String json) throws IOException {
        if (json.contains("\"stream\":true")) {
            RawHttp.Response response = Calls.rawChat(gateway, json, "x-step: " + step);
            assertTrue(response.status != 200 || response.body.contains("[DONE]"), response.body);
            return response.status;
        }
        HttpResponse<String> response = post(step, json);
        assertEquals(200, response.statusCode(), response.body());
        return response.statusCode();
    }

    private static HttpResponse<String> post(String step, String json) {
        return gateway.send(Calls.chatRequest(gateway, json, "x-step", step).build());
    }
}
