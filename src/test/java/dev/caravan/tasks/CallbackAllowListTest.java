package dev.caravan.tasks;

import java.net.http.HttpResponse;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.openai.Json;
import dev.caravan.support.GatewayInstance;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.caravan.tasks.TaskPolling.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A task's callback_url cannot aim the gateway at its own machine or network unless CALLBACK_ALLOWED_HOSTS says. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CallbackAllowListTest {

    GatewayInstance closed;
    GatewayInstance listed;
    CallbackReceiver callbacks;

    @BeforeAll
    void start() {
        callbacks = new CallbackReceiver();
        closed = GatewayInstance.startDefault(); // CALLBACK_ALLOWED_HOSTS empty: public hosts only
        listed = GatewayInstance.builder().property("gateway.callback-allowed-hosts", "127.0.0.1").start();
    }

    @AfterAll
    void stop() {
        closed.close();
        listed.close();
        callbacks.close();
    }

    private static HttpResponse<String> enqueue(GatewayInstance gateway, String callbackUrl) {
        return post(gateway, "/tasks/enqueue", null, """
                {"model":"caravan-echo","callback_url":"%s","messages":[{"role":"user","content":"hi"}]}"""
                .formatted(callbackUrl));
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://10.1.2.3/hook",
            "http://169.254.169.254/latest/meta-data/", "http://[::1]:9/hook", "http://0.0.0.0:9/hook",
            "http://192.168.0.10/hook", "https://user:pass@127.0.0.1:9/hook"})
    void anInternalCallbackIsRefusedAtEnqueue(String url) throws Exception {
        HttpResponse<String> refused = enqueue(closed, url);
        assertEquals(400, refused.statusCode(), url + " → " + refused.body());
        JsonNode error = Json.MAPPER.readTree(refused.body()).get("error");
        assertEquals("invalid_request_error", error.get("type").asText());
        assertEquals("callback_url", error.get("param").asText());
        assertTrue(error.get("message").asText().contains("CALLBACK_ALLOWED_HOSTS"), error.toString());
        assertFalse(refused.body().contains("pass"), "the URL's credentials are not echoed");
    }

    @Test
    void aListedCallbackRunsWithItsCredentials() throws Exception {
        HttpResponse<String> accepted = enqueue(listed, callbacks.urlWithCredentials("hook", "pw", "/listed"));
        assertEquals(202, accepted.statusCode(), accepted.body());
        CallbackReceiver.Call call = callbacks.await("/listed", 10_000);
        assertNotNull(call, "the listed loopback receiver got the finished task");
        assertEquals("done", call.body().get("status").asText());
        assertTrue(call.headers().get("authorization").startsWith("Basic "));
        // listed by address only: a name, or another loopback address, is still refused
        assertEquals(400, enqueue(listed, "http://127.0.0.2:9/hook").statusCode());
    }
}
