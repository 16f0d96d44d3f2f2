package dev.caravan.api;

import java.net.http.HttpResponse;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.openai.Json;
import dev.caravan.support.GatewayInstance;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** No configuration at all: the built-in local backend answers chat, streams and embeddings. */
class EmbeddedDefaultTest {

    static GatewayInstance gateway;

    @BeforeAll
    static void start() {
        gateway = GatewayInstance.startDefault();
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void chatAnswersWithTheEchoModel() throws Exception {
        HttpResponse<String> response = gateway.postJson("/v1/chat/completions",
                "{\"model\":\"caravan-echo\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi there\"}]}");
        assertEquals(200, response.statusCode(), response.body());
        JsonNode body = Json.MAPPER.readTree(response.body());
        assertEquals("chat.completion", body.get("object").asText());
        assertEquals("You said: Hi there", body.at("/choices/0/message/content").asText());
        assertEquals("local", response.headers().firstValue("x-caravan-backend").orElseThrow());
        assertTrue(response.headers().firstValue("x-request-id").isPresent());
    }
}
