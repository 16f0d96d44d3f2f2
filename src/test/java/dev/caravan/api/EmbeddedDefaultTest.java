package dev.caravan.api;

import java.net.http.HttpResponse;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.openai.Json;
import dev.caravan.support.DefaultGateway;
import dev.caravan.support.Golden;
import dev.caravan.support.RawHttp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** No configuration at all: the built-in local backend answers chat, streams and embeddings. */
class EmbeddedDefaultTest {

    @RegisterExtension
    static final DefaultGateway env = new DefaultGateway();

    @Test
    void theEchoModelStreamsTokenByTokenAsTheGoldenTranscriptSays() throws Exception {
        try (RawHttp http = RawHttp.postJson(env.gateway().port(), "/v1/chat/completions", """
                {"model":"caravan-echo","stream":true,"stream_options":{"include_usage":true},
                 "messages":[{"role":"user","content":"Stream this, please"}]}""")) {
            RawHttp.Response response = http.readAll();
            assertEquals(200, response.status);
            assertTrue(response.cleanEnd);
            Golden.assertMatches("local-echo-stream-usage.sse", response.body);
        }
        try (RawHttp http = RawHttp.postJson(env.gateway().port(), "/v1/chat/completions/stream", """
                {"model":"caravan-echo","messages":[{"role":"user","content":"Stream this, please"}]}""")) {
            Golden.assertMatches("local-echo-stream.ndjson", http.readAll().body);
        }
    }

    @Test
    void chatAnswersWithTheEchoModel() throws Exception {
        HttpResponse<String> response = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"caravan-echo\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi there\"}]}");
        assertEquals(200, response.statusCode(), response.body());
        JsonNode body = Json.MAPPER.readTree(response.body());
        assertEquals("chat.completion", body.get("object").asText());
        assertEquals("You said: Hi there", body.at("/choices/0/message/content").asText());
        assertEquals("local", response.headers().firstValue("x-caravan-backend").orElseThrow());
        assertTrue(response.headers().firstValue("x-request-id").isPresent());
    }
}
