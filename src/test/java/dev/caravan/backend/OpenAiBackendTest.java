package dev.caravan.backend;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.openai.Json;
import dev.caravan.support.Calls;
import dev.caravan.support.EmulatedGateway;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.Golden;
import dev.caravan.support.RawHttp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The openai backend against an OpenAI-compatible emulator: pass-through, streaming contract, failures. */
class OpenAiBackendTest {

    @RegisterExtension
    static final EmulatedGateway env = EmulatedGateway.withConfig(url -> """
            backends:
              vllm: {type: openai, url: "%s", max-concurrent: 8}
              vllm-v1: {type: vllm, url: "%s/v1"}
              down: {type: openai, url: "http://127.0.0.1:%d"}
            models:
              gpt-emu: {backend: vllm, upstream-model: emu-upstream}
              "vllm/*": {backend: vllm}
              "v1/*": {backend: vllm-v1}
              broken: {backend: down}
            """.formatted(url, url, GatewayInstance.freePort()))
            // the failure tests must not open the circuit for the tests after them (see CircuitBreakerTest)
            .property("gateway.circuit.minimum-calls", "1000")
            .property("gateway.circuit.sliding-window-size", "1000");

    @Test
    void unknownFieldsPassThroughUntouchedAndTheModelIsMapped() throws Exception {
        HttpResponse<String> response = env.gateway().postJson("/v1/chat/completions", """
                {"model":"gpt-emu","messages":[{"role":"user","content":"hello there"}],
                 "response_format":{"type":"json_object"},"seed":7,"logprobs":false,"user":"u1",
                 "custom_field":{"a":[1,2]},"temperature":0.5,"stream_options":null}""");
        assertEquals(200, response.statusCode(), response.body());
        JsonObject sent = env.upstream().lastRequestBody();
        assertEquals("emu-upstream", sent.getString("model"));
        assertEquals(false, sent.getBoolean("stream"));
        assertEquals(new JsonObject().put("type", "json_object"), sent.getJsonObject("response_format"));
        assertEquals(7, sent.getInteger("seed"));
        assertEquals(false, sent.getBoolean("logprobs"));
        assertEquals("u1", sent.getString("user"));
        assertEquals(new JsonObject("{\"a\":[1,2]}"), sent.getJsonObject("custom_field"));
        assertEquals(0.5, sent.getDouble("temperature"));
        JsonNode body = Json.MAPPER.readTree(response.body());
        assertEquals("gpt-emu", body.get("model").asText());
        assertEquals(UpstreamEmulator.DEFAULT_REPLY, body.at("/choices/0/message/content").asText());
        assertEquals(8, body.at("/usage/completion_tokens").asInt());
        assertEquals(2, body.at("/usage/prompt_tokens").asInt());
        assertEquals("emu", body.get("system_fingerprint").asText(), "upstream fields are kept");
        assertEquals("vllm", response.headers().firstValue("x-caravan-backend").orElseThrow());
    }

    @Test
    void prefixModelsAndUrlsWithV1Work() {
        assertEquals(200, env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"vllm/some-model\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").statusCode());
        assertEquals("some-model", env.upstream().lastRequestBody().getString("model"));
        assertEquals(200, env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"v1/other\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").statusCode());
        assertEquals("/v1/chat/completions", env.upstream().lastRequestPath());
    }

    @Test
    void streamMatchesTheGoldenTranscript() throws Exception {
        RawHttp.Response response = stream("""
                {"model":"gpt-emu","stream":true,"stream_options":{"include_usage":true},
                 "messages":[{"role":"user","content":"hello there"}]}""");
        assertEquals(200, response.status);
        assertTrue(response.headers.get("content-type").startsWith("text/event-stream"));
        assertTrue(response.cleanEnd);
        assertGolden("openai-stream-usage.sse", response.body);
        JsonObject sent = env.upstream().lastRequestBody();
        assertEquals(true, sent.getBoolean("stream"));
        assertEquals(true, sent.getJsonObject("stream_options").getBoolean("include_usage"));
    }

    @Test
    void streamWithoutIncludeUsageCarriesNoUsageButTheGatewayStillAskedForIt() throws Exception {
        RawHttp.Response response = stream("""
                {"model":"gpt-emu","stream":true,"messages":[{"role":"user","content":"hello"}]}""");
        assertEquals(200, response.status);
        assertGolden("openai-stream.sse", response.body);
        assertFalse(response.body.contains("usage"));
        assertEquals(true,
                env.upstream().lastRequestBody().getJsonObject("stream_options").getBoolean("include_usage"));
    }

    @Test
    void usageIsCountedWhenTheUpstreamGivesNone() throws Exception {
        env.upstream().omitUsage(true);
        RawHttp.Response response = stream("""
                {"model":"gpt-emu","stream":true,"stream_options":{"include_usage":true},
                 "messages":[{"role":"user","content":"hello"}]}""");
        List<String> events = response.events();
        JsonNode usageChunk = Json.MAPPER.readTree(events.get(events.size() - 2));
        assertEquals(0, usageChunk.get("choices").size());
        assertTrue(usageChunk.at("/usage/completion_tokens").asInt() > 0);
        assertTrue(usageChunk.at("/usage/prompt_tokens").asInt() > 0);
        assertEquals("[DONE]", events.get(events.size() - 1));
    }

    @Test
    void toolCallsPassThroughAndComeBack() throws Exception {
        String tools = """
                [{"type":"function","function":{"name":"get_weather","description":"Weather of a city",
                  "parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}}]""";
        HttpResponse<String> response = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"gpt-emu\",\"tool_choice\":\"auto\",\"tools\":" + tools
                        + ",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}]}");
        assertEquals(200, response.statusCode(), response.body());
        assertEquals(new io.vertx.core.json.JsonArray(tools), env.upstream().lastRequestBody().getJsonArray("tools"));
        assertEquals("auto", env.upstream().lastRequestBody().getString("tool_choice"));
        JsonNode message = Json.MAPPER.readTree(response.body()).at("/choices/0/message");
        assertEquals("get_weather", message.at("/tool_calls/0/function/name").asText());
        assertEquals("{\"location\":\"Paris\"}", message.at("/tool_calls/0/function/arguments").asText());

        RawHttp.Response streamed = stream("{\"model\":\"gpt-emu\",\"stream\":true,\"tools\":" + tools
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}]}");
        StringBuilder arguments = new StringBuilder();
        String finish = null;
        for (String event : streamed.events()) {
            if (event.equals("[DONE]")) {
                continue;
            }
            JsonNode choice = Json.MAPPER.readTree(event).at("/choices/0");
            JsonNode piece = choice.at("/delta/tool_calls/0/function/arguments");
            if (piece.isTextual()) {
                arguments.append(piece.asText());
            }
            if (choice.hasNonNull("finish_reason")) {
                finish = choice.get("finish_reason").asText();
            }
        }
        assertEquals("{\"location\":\"Paris\"}", arguments.toString());
        assertEquals("tool_calls", finish);
    }

    @Test
    void theRequestIdGoesUpstreamAndNoClientHeaderDoes() throws Exception {
        try (RawHttp http = RawHttp.postJson(env.gateway().port(), "/v1/chat/completions",
                "{\"model\":\"gpt-emu\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                "x-request-id: trace-42", "TE: trailers", "Keep-Alive: timeout=5", "Proxy-Authorization: Basic eA==",
                "Authorization: Bearer client-secret", "X-Custom: leak")) {
            RawHttp.Response response = http.readAll();
            assertEquals(200, response.status, response.body);
            assertEquals("trace-42", response.headers.get("x-request-id"));
        }
        Map<String, String> headers = env.upstream().lastRequestHeaders();
        assertEquals("trace-42", headers.get("x-request-id"));
        for (String hopByHop : List.of("te", "keep-alive", "proxy-authorization", "upgrade", "http2-settings",
                "authorization", "x-custom")) {
            assertNull(headers.get(hopByHop), hopByHop + " must not be forwarded: " + headers);
        }
    }

    @Test
    void theJdkClientWithItsH2cUpgradeOfferIsServed() {
        // java.net.http offers "Connection: Upgrade, HTTP2-Settings" + "Upgrade: h2c" on a plain-text POST
        HttpResponse<String> response = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"gpt-emu\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(200, response.statusCode());
        assertNull(env.upstream().lastRequestHeaders().get("upgrade"));
        assertNull(env.upstream().lastRequestHeaders().get("http2-settings"));
    }

    @Test
    void aStreamCutUpstreamEndsWithAnErrorEventAndNoDone() throws Exception {
        env.upstream().cutAfterTokens(2);
        RawHttp.Response response = stream("""
                {"model":"gpt-emu","stream":true,"messages":[{"role":"user","content":"hello"}]}""");
        assertEquals(200, response.status);
        List<String> events = response.events();
        assertFalse(events.contains("[DONE]"), response.body);
        JsonNode last = Json.MAPPER.readTree(events.get(events.size() - 1));
        assertNotNull(last.get("error"), response.body);
        assertEquals("upstream_error", last.at("/error/type").asText());
        assertTrue(events.size() >= 3, "the tokens before the cut were relayed: " + response.body);
    }

    @Test
    void upstreamFailuresBecome502AndUnreachableUpstreamsToo() throws Exception {
        env.upstream().failNext(3, 500); // every attempt (gateway.retry.max-attempts) fails
        HttpResponse<String> failed = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"gpt-emu\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(502, failed.statusCode());
        assertEquals("upstream_error", Json.MAPPER.readTree(failed.body()).at("/error/type").asText());
        assertTrue(failed.body().contains("emulated failure"), failed.body());

        env.upstream().failNext(1, 400);
        HttpResponse<String> rejected = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"gpt-emu\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(400, rejected.statusCode(), "the upstream's verdict on a bad request passes through");

        env.upstream().failNext(3, 503);
        RawHttp.Response stream = stream("{\"model\":\"gpt-emu\",\"stream\":true,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(502, stream.status, "a stream refused before its first byte is a plain error reply");
        assertTrue(stream.headers.get("content-type").startsWith("application/json"));

        HttpResponse<String> down = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"broken\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(502, down.statusCode());
        assertTrue(down.body().contains("cannot be reached"), down.body());
    }

    @Test
    void embeddingsAndLegacyCompletionsPassThrough() throws Exception {
        HttpResponse<String> embeddings = env.gateway().postJson("/v1/embeddings",
                "{\"model\":\"gpt-emu\",\"input\":[\"a\",\"b\"]}");
        assertEquals(200, embeddings.statusCode(), embeddings.body());
        assertEquals("/v1/embeddings", env.upstream().lastRequestPath());
        assertEquals("emu-upstream", env.upstream().lastRequestBody().getString("model"));
        assertEquals(2, Json.MAPPER.readTree(embeddings.body()).get("data").size());

        HttpResponse<String> completion = env.gateway().postJson("/v1/completions",
                "{\"model\":\"gpt-emu\",\"prompt\":\"Say hi\",\"max_tokens\":3}");
        assertEquals(200, completion.statusCode(), completion.body());
        assertEquals("/v1/completions", env.upstream().lastRequestPath());
        JsonNode text = Json.MAPPER.readTree(completion.body());
        assertEquals("text_completion", text.get("object").asText());
        assertEquals("Hello from the ", text.at("/choices/0/text").asText());
        assertEquals("length", text.at("/choices/0/finish_reason").asText());
    }

    @Test
    void theNdjsonEndpointStreamsOneChunkALine() throws Exception {
        RawHttp.Response response;
        try (RawHttp http = RawHttp.postJson(env.gateway().port(), "/v1/chat/completions/stream",
                "{\"model\":\"gpt-emu\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}")) {
            response = http.readAll();
        }
        assertEquals(200, response.status);
        assertEquals("application/x-ndjson", response.headers.get("content-type"));
        assertGolden("openai-stream.ndjson", response.body);
    }

    private static RawHttp.Response stream(String json) throws IOException {
        return Calls.rawChat(env.gateway(), json);
    }

    static void assertGolden(String name, String actual) throws IOException {
        Golden.assertMatches(name, actual);
    }
}
