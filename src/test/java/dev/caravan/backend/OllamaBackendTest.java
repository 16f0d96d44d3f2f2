package dev.caravan.backend;

import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.support.Calls;
import dev.caravan.support.EmulatedGateway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Ollama adapter through the real gateway, against the emulator's Ollama dialect: what the client sends in
 * OpenAI format must reach Ollama translated (checked on the body Ollama received), and what Ollama answers must
 * reach the client as OpenAI replies and streams, with Ollama's own token counts.
 */
class OllamaBackendTest {

    /** "be brief" + "say hi please": 5 words, which is the emulator's prompt token count. */
    private static final String MESSAGES = "\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
            + "{\"role\":\"user\",\"content\":\"say hi please\"}]";
    private static final String REPLY = UpstreamEmulator.DEFAULT_REPLY; // 8 tokens
    private static final String TOOLS = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
            + "\"description\":\"Weather of a city\",\"parameters\":{\"type\":\"object\","
            + "\"properties\":{\"location\":{\"type\":\"string\"}},\"required\":[\"location\"]}}}]";

    @RegisterExtension
    static final EmulatedGateway env = EmulatedGateway.withEmulator(emulator -> """
            backends:
              gpu: {type: ollama, url: "%s", max-concurrent: 4}
              slow: {type: ollama, url: "%s", timeout-seconds: 1}
            models:
              llama3.2: {backend: gpu, upstream-model: "llama3.2:latest"}
              nomic: {backend: gpu, upstream-model: "nomic-embed-text"}
              "gpu/*": {backend: gpu}
              patient: {backend: slow, upstream-model: "llama3.2:latest"}
            """.formatted(emulator.baseUrl(), emulator.extraBaseUrl()))
            // the failure tests must not open the circuit for the tests after them (see CircuitBreakerTest)
            .property("gateway.circuit.minimum-calls", "1000")
            .property("gateway.circuit.sliding-window-size", "1000");

    @Test
    void chatIsTranslatedBothWays() throws Exception {
        HttpResponse<String> response = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"llama3.2\"," + MESSAGES
                + ",\"max_tokens\":5,\"temperature\":0.2,\"seed\":7,\"stop\":\"END\"}");

        assertEquals(200, response.statusCode(), response.body());
        JsonNode body = json(response.body());
        assertEquals("chat.completion", body.get("object").asText());
        assertEquals("llama3.2", body.get("model").asText());
        assertTrue(body.get("id").asText().startsWith("chatcmpl-"));
        assertEquals("assistant", body.at("/choices/0/message/role").asText());
        assertEquals("Hello from the emulator! How ", body.at("/choices/0/message/content").asText());
        assertEquals("length", body.at("/choices/0/finish_reason").asText()); // num_predict cut it
        assertEquals(json("{\"prompt_tokens\":5,\"completion_tokens\":5,\"total_tokens\":10}"), body.get("usage"));

        assertEquals("/api/chat", env.upstream().lastRequestPath());
        assertEquals(json("{\"model\":\"llama3.2:latest\"," + MESSAGES + ",\"stream\":false,"
                + "\"options\":{\"num_predict\":5,\"temperature\":0.2,\"seed\":7,\"stop\":[\"END\"]}}"), upstreamBody());
    }

    @Test
    void responseFormatBecomesOllamaFormat() throws Exception {
        String schema = "{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\"}}}";
        env.gateway().postJson("/v1/chat/completions", "{\"model\":\"llama3.2\"," + MESSAGES
                + ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a\",\"schema\":" + schema + "}}}");
        assertEquals(json(schema), upstreamBody().get("format"));

        env.gateway().postJson("/v1/chat/completions", "{\"model\":\"llama3.2\"," + MESSAGES
                + ",\"response_format\":{\"type\":\"json_object\"}}");
        assertEquals("json", upstreamBody().get("format").asText());
    }

    @Test
    void streamFollowsTheContractWithOllamasCounts() throws Exception {
        HttpResponse<String> response = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"llama3.2\"," + MESSAGES
                + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");

        assertEquals(200, response.statusCode(), response.body());
        assertTrue(response.headers().firstValue("content-type").orElseThrow().startsWith("text/event-stream"));
        List<String> events = sseData(response.body());
        assertEquals("[DONE]", events.get(events.size() - 1));
        List<JsonNode> chunks = chunks(events.subList(0, events.size() - 1));
        assertEquals("assistant", chunks.get(0).at("/choices/0/delta/role").asText());
        assertEquals(REPLY, content(chunks));
        String id = chunks.get(0).get("id").asText();
        for (JsonNode chunk : chunks) {
            assertEquals(id, chunk.get("id").asText(), "one id for the whole stream");
            assertEquals("chat.completion.chunk", chunk.get("object").asText());
            assertEquals("llama3.2", chunk.get("model").asText());
        }
        JsonNode usage = chunks.get(chunks.size() - 1);
        assertTrue(usage.get("choices").isEmpty());
        assertEquals(json("{\"prompt_tokens\":5,\"completion_tokens\":8,\"total_tokens\":13}"), usage.get("usage"));
        assertEquals("stop", chunks.get(chunks.size() - 2).at("/choices/0/finish_reason").asText());
        for (JsonNode chunk : chunks.subList(0, chunks.size() - 2)) {
            assertTrue(chunk.at("/choices/0/finish_reason").isNull(), chunk.toString());
        }
        assertEquals(true, upstreamBody().get("stream").asBoolean());
    }

    @Test
    void streamWithoutIncludeUsageHasNoUsageChunk() throws Exception {
        HttpResponse<String> response = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"llama3.2\"," + MESSAGES + ",\"stream\":true}");

        List<String> events = sseData(response.body());
        assertEquals("[DONE]", events.get(events.size() - 1));
        List<JsonNode> chunks = chunks(events.subList(0, events.size() - 1));
        for (JsonNode chunk : chunks) {
            assertFalse(chunk.get("choices").isEmpty(), "no usage-only chunk: " + chunk);
            assertTrue(chunk.path("usage").isMissingNode() || chunk.get("usage").isNull(), chunk.toString());
        }
        assertEquals("stop", chunks.get(chunks.size() - 1).at("/choices/0/finish_reason").asText());
        assertEquals(REPLY, content(chunks));
    }

    @Test
    void ndjsonEndpointStreamsOneChunkALine() throws Exception {
        HttpResponse<String> response = env.gateway().postJson("/v1/chat/completions/stream",
                "{\"model\":\"llama3.2\"," + MESSAGES + ",\"stream_options\":{\"include_usage\":true}}");

        assertEquals(200, response.statusCode(), response.body());
        assertEquals("application/x-ndjson", response.headers().firstValue("content-type").orElseThrow());
        assertFalse(response.body().contains("[DONE]"));
        List<JsonNode> chunks = new ArrayList<>();
        response.body().lines().forEach(line -> chunks.add(json(line)));
        assertEquals("assistant", chunks.get(0).at("/choices/0/delta/role").asText());
        assertEquals(REPLY, content(chunks));
        assertEquals("stop", chunks.get(chunks.size() - 2).at("/choices/0/finish_reason").asText());
        assertEquals(13, chunks.get(chunks.size() - 1).at("/usage/total_tokens").asInt());
    }

    @Test
    void toolCallsRoundTripWithoutStream() throws Exception {
        HttpResponse<String> response = env.gateway().postJson("/v1/chat/completions", toolRequest(false));

        assertEquals(200, response.statusCode(), response.body());
        JsonNode upstream = upstreamBody();
        assertEquals(json(TOOLS), upstream.get("tools"));
        // the earlier call goes to Ollama with its arguments as an object, its result named by the tool
        assertEquals(json("{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":"
                + "{\"name\":\"get_weather\",\"arguments\":{\"location\":\"Lyon\"}}}]}"), upstream.at("/messages/1"));
        assertEquals(json("{\"role\":\"tool\",\"content\":\"sunny\",\"tool_name\":\"get_weather\"}"),
                upstream.at("/messages/2"));

        JsonNode choice = json(response.body()).at("/choices/0");
        assertEquals("tool_calls", choice.get("finish_reason").asText());
        assertTrue(choice.at("/message/content").isNull());
        JsonNode call = choice.at("/message/tool_calls/0");
        assertTrue(call.get("id").asText().startsWith("call_"), call.toString());
        assertEquals("function", call.get("type").asText());
        assertEquals("get_weather", call.at("/function/name").asText());
        assertEquals(json("{\"location\":\"Paris\"}"), json(call.at("/function/arguments").asText()));
    }

    @Test
    void toolCallsRoundTripInAStream() throws Exception {
        HttpResponse<String> response = env.gateway().postJson("/v1/chat/completions", toolRequest(true));

        List<String> events = sseData(response.body());
        assertEquals("[DONE]", events.get(events.size() - 1));
        List<JsonNode> chunks = chunks(events.subList(0, events.size() - 1));
        JsonNode call = chunks.stream().map(c -> c.at("/choices/0/delta/tool_calls/0"))
                .filter(JsonNode::isObject).findFirst().orElseThrow();
        assertEquals(0, call.get("index").asInt());
        assertTrue(call.get("id").asText().startsWith("call_"));
        assertEquals("function", call.get("type").asText());
        assertEquals("get_weather", call.at("/function/name").asText());
        assertEquals(json("{\"location\":\"Paris\"}"), json(call.at("/function/arguments").asText()));
        assertEquals("tool_calls", chunks.get(chunks.size() - 1).at("/choices/0/finish_reason").asText());
    }

    @Test
    void embeddingsAsFloatsAndAsBase64() throws Exception {
        HttpResponse<String> response = env.gateway().postJson("/v1/embeddings",
                "{\"model\":\"nomic\",\"input\":[\"a b\",\"c\"]}");

        assertEquals(200, response.statusCode(), response.body());
        assertEquals(json("{\"model\":\"nomic-embed-text\",\"input\":[\"a b\",\"c\"]}"), upstreamBody());
        assertEquals("/api/embed", env.upstream().lastRequestPath());
        JsonNode floats = json(response.body());
        assertEquals("list", floats.get("object").asText());
        assertEquals("nomic", floats.get("model").asText());
        assertEquals(json("{\"prompt_tokens\":3,\"total_tokens\":3}"), floats.get("usage"));
        assertEquals(2, floats.get("data").size());
        assertEquals("embedding", floats.at("/data/1/object").asText());
        assertEquals(1, floats.at("/data/1/index").asInt());
        assertEquals(8, floats.at("/data/0/embedding").size());

        JsonNode encoded = json(env.gateway().postJson("/v1/embeddings",
                "{\"model\":\"nomic\",\"input\":[\"a b\",\"c\"],\"encoding_format\":\"base64\"}").body());
        for (int i = 0; i < 2; i++) {
            ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(encoded.at("/data/" + i + "/embedding").asText()))
                    .order(ByteOrder.LITTLE_ENDIAN);
            JsonNode expected = floats.at("/data/" + i + "/embedding");
            assertEquals(expected.size() * 4, bytes.remaining());
            for (JsonNode value : expected) {
                assertEquals((float) value.asDouble(), bytes.getFloat());
            }
        }
    }

    @Test
    void legacyCompletionsAreServedThroughChat() throws Exception {
        HttpResponse<String> response = env.gateway().postJson("/v1/completions",
                "{\"model\":\"llama3.2\",\"prompt\":\"say hi\",\"max_tokens\":3}");

        assertEquals(200, response.statusCode(), response.body());
        assertEquals("/api/chat", env.upstream().lastRequestPath());
        assertEquals(json("[{\"role\":\"user\",\"content\":\"say hi\"}]"), upstreamBody().get("messages"));
        assertEquals(3, upstreamBody().at("/options/num_predict").asInt());
        JsonNode body = json(response.body());
        assertEquals("text_completion", body.get("object").asText());
        assertEquals("Hello from the ", body.at("/choices/0/text").asText());
        assertEquals("length", body.at("/choices/0/finish_reason").asText());
        assertEquals(json("{\"prompt_tokens\":2,\"completion_tokens\":3,\"total_tokens\":5}"), body.get("usage"));

        List<String> events = sseData(env.gateway().postJson("/v1/completions",
                "{\"model\":\"llama3.2\",\"prompt\":\"say hi\",\"stream\":true}").body());
        assertEquals("[DONE]", events.get(events.size() - 1));
        StringBuilder text = new StringBuilder();
        for (JsonNode chunk : chunks(events.subList(0, events.size() - 1))) {
            assertEquals("text_completion", chunk.get("object").asText());
            text.append(chunk.at("/choices/0/text").asText());
        }
        assertEquals(REPLY, text.toString());
    }

    @Test
    void aStreamCutUpstreamEndsWithAnErrorEventAndNoDone() throws Exception {
        env.upstream().cutAfterTokens(2);
        HttpResponse<String> response = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"llama3.2\"," + MESSAGES + ",\"stream\":true}");

        assertEquals(200, response.statusCode()); // the stream had begun: the status was already sent
        List<String> events = sseData(response.body());
        assertFalse(response.body().contains("[DONE]"), response.body());
        JsonNode error = json(events.get(events.size() - 1)).get("error");
        assertTrue(error.isObject(), response.body());
        assertTrue(error.hasNonNull("message") && error.hasNonNull("type"), error.toString());
        assertEquals("Hello from ", content(chunks(events.subList(0, events.size() - 1))));
    }

    @Test
    void anUpstreamFailureIsA502WithAnOpenAiError() throws Exception {
        env.upstream().failNext(3, 500); // every attempt (gateway.retry.max-attempts) fails
        HttpResponse<String> response = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"llama3.2\"," + MESSAGES + "}");
        assertUpstreamError(response);

        env.upstream().failNext(3, 500);
        assertUpstreamError(env.gateway().postJson("/v1/chat/completions", "{\"model\":\"llama3.2\"," + MESSAGES
                + ",\"stream\":true}")); // before the stream opened, a failure is still a plain error reply
    }

    @Test
    void anUpstreamThatNeverAnswersIsAbortedAtTheDeadline() throws Exception {
        env.upstream().hangNext(1);
        HttpResponse<String> response = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"patient\"," + MESSAGES + ",\"stream\":true}");

        assertEquals(504, response.statusCode(), response.body());
        assertEquals("deadline_exceeded", json(response.body()).at("/error/code").asText());
        assertTrue(env.upstream().awaitClientAborts(1, Duration.ofSeconds(5)), "the upstream request was reset");
    }

    @Test
    void prefixModelsListWhatOllamaHas() throws Exception {
        JsonNode models = json(env.gateway().get("/v1/models").body());
        List<String> ids = new ArrayList<>();
        models.get("data").forEach(m -> ids.add(m.get("id").asText()));
        assertTrue(ids.contains("gpu/llama3.2:latest"), ids.toString());
    }

    // -- helpers --------------------------------------------------------------------------------------------------

    private static String toolRequest(boolean stream) {
        return "{\"model\":\"llama3.2\",\"stream\":" + stream + ",\"tools\":" + TOOLS + ",\"messages\":["
                + "{\"role\":\"user\",\"content\":\"weather in Lyon?\"},"
                + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
                + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"location\\\":\\\"Lyon\\\"}\"}}]},"
                + "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"sunny\"},"
                + "{\"role\":\"user\",\"content\":\"and in Paris?\"}]}";
    }

    private static void assertUpstreamError(HttpResponse<String> response) {
        assertEquals(502, response.statusCode(), response.body());
        JsonNode error = json(response.body()).get("error");
        assertTrue(error.isObject(), response.body());
        for (String field : List.of("message", "type", "param", "code")) {
            assertTrue(error.has(field), field + " in " + error);
        }
        assertTrue(error.get("message").asText().contains("emulated failure"), error.toString());
    }

    private static JsonNode upstreamBody() {
        return json(env.upstream().lastRequestBodyText());
    }

    /** The data of each SSE event, in order; every event must be a "data: " line. */
    static List<String> sseData(String body) {
        List<String> data = new ArrayList<>();
        for (String event : body.split("\n\n")) {
            assertTrue(event.startsWith("data: "), "not an SSE data event: " + event);
            data.add(event.substring(6));
        }
        return data;
    }

    static List<JsonNode> chunks(List<String> data) {
        List<JsonNode> chunks = new ArrayList<>();
        data.forEach(d -> chunks.add(json(d)));
        return chunks;
    }

    static String content(List<JsonNode> chunks) {
        StringBuilder content = new StringBuilder();
        for (JsonNode chunk : chunks) {
            content.append(chunk.at("/choices/0/delta/content").asText(""));
        }
        return content.toString();
    }

    static JsonNode json(String text) {
        return Calls.json(text);
    }
}
