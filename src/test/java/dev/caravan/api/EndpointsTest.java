package dev.caravan.api;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.openai.Json;
import dev.caravan.support.GatewayInstance;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every endpoint of DESIGN §4 that the embedded default serves, with OpenAI's exact shapes; then a gateway in
 * front of two emulated upstreams (OpenAI-compatible and Ollama) for the model listing and health.
 */
class EndpointsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    static GatewayInstance gateway;

    @BeforeAll
    static void start() {
        gateway = GatewayInstance.startDefault();
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    static HttpResponse<String> get(GatewayInstance g, String path) throws Exception {
        return g.http().send(HttpRequest.newBuilder(g.uri(path)).timeout(TIMEOUT).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(GatewayInstance g, String path, String json) throws Exception {
        return g.http().send(HttpRequest.newBuilder(g.uri(path)).timeout(TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(HttpResponse<String> response) throws Exception {
        String type = response.headers().firstValue("content-type").orElse("");
        assertTrue(type.toLowerCase(Locale.ROOT).startsWith("application/json"),
                "content-type '" + type + "' for " + response.body());
        return Json.MAPPER.readTree(response.body());
    }

    static JsonNode ok(HttpResponse<String> response) throws Exception {
        assertEquals(200, response.statusCode(), response.uri() + ": " + response.body());
        return json(response);
    }

    /** data: payloads of an SSE body, in order; asserts the framing ("data: ...\n\n"). */
    static List<String> sseData(String body) {
        assertTrue(body.endsWith("\n\n"), "SSE ends with a blank line: " + body);
        List<String> data = new ArrayList<>();
        for (String event : body.split("\n\n")) {
            if (event.isBlank() || event.startsWith(":")) {
                continue;
            }
            assertTrue(event.startsWith("data: "), "an SSE data frame: '" + event + "'");
            data.add(event.substring("data: ".length()));
        }
        return data;
    }

    // -- status and health ---------------------------------------------------------------------------------------

    @Test
    void statusAtRootAndV1() throws Exception {
        for (String path : List.of("/", "/v1")) {
            JsonNode status = ok(get(gateway, path));
            assertEquals("ok", status.path("status").asText(), path + ": " + status);
        }
    }

    @Test
    void healthListsTheLocalBackendWithItsLane() throws Exception {
        for (String path : List.of("/health", "/v1/health")) {
            JsonNode health = ok(get(gateway, path));
            assertEquals("ok", health.path("status").asText(), path + ": " + health);
            JsonNode local = health.path("backends").path("local");
            assertTrue(local.isObject(), path + ": " + health);
            assertEquals("local", local.path("type").asText(), path + ": " + health);
            JsonNode lane = local.path("lane");
            for (String field : List.of("max_concurrent", "in_flight", "waiting", "queue_size")) {
                assertTrue(lane.path(field).isIntegralNumber(), path + ": lane." + field + " in " + health);
            }
            assertTrue(lane.path("max_concurrent").asInt() >= 1, health.toString());
            assertEquals(0, lane.path("in_flight").asInt(), "nothing runs now: " + health);
        }
    }

    // -- models ----------------------------------------------------------------------------------------------------

    static void assertModelObject(JsonNode model) {
        assertTrue(model.path("id").isTextual(), model.toString());
        assertEquals("model", model.path("object").asText(), model.toString());
        assertTrue(model.path("created").isIntegralNumber(), model.toString());
        assertTrue(model.path("owned_by").isTextual(), model.toString());
        assertEquals(4, model.size(), "exactly id, object, created, owned_by: " + model);
    }

    static Set<String> modelIds(JsonNode list) {
        assertEquals("list", list.path("object").asText(), list.toString());
        assertTrue(list.path("data").isArray(), list.toString());
        Set<String> ids = new HashSet<>();
        for (JsonNode model : list.path("data")) {
            assertModelObject(model);
            assertTrue(ids.add(model.get("id").asText()), "listed once: " + model + " in " + list);
        }
        return ids;
    }

    @Test
    void modelsListTheEmbeddedModels() throws Exception {
        for (String path : List.of("/v1/models", "/models")) {
            Set<String> ids = modelIds(ok(get(gateway, path)));
            assertTrue(ids.containsAll(Set.of("caravan-echo", "all-minilm-l6-v2")), path + ": " + ids);
        }
    }

    @Test
    void oneModelByItsId() throws Exception {
        JsonNode model = ok(get(gateway, "/v1/models/caravan-echo"));
        assertModelObject(model);
        assertEquals("caravan-echo", model.get("id").asText());
        assertEquals("all-minilm-l6-v2", ok(get(gateway, "/models/all-minilm-l6-v2")).path("id").asText());
    }

    @Test
    void anUnknownModelIdIs404() throws Exception {
        HttpResponse<String> response = get(gateway, "/v1/models/nope");
        assertEquals(404, response.statusCode(), response.body());
        JsonNode error = BadInputTest.assertOpenAiError("GET /v1/models/nope", response.body());
        assertEquals("model_not_found", error.path("code").asText(), response.body());
    }

    // -- chat and legacy completions ---------------------------------------------------------------------------

    @Test
    void chatWithoutV1Works() throws Exception {
        JsonNode body = ok(post(gateway, "/chat/completions",
                "{\"model\":\"caravan-echo\",\"messages\":[{\"role\":\"user\",\"content\":\"alias path\"}]}"));
        assertEquals("chat.completion", body.path("object").asText());
        assertEquals("You said: alias path", body.at("/choices/0/message/content").asText());
    }

    @Test
    void maxTokensCutsTheEchoWithFinishReasonLength() throws Exception {
        JsonNode body = ok(post(gateway, "/v1/chat/completions", "{\"model\":\"caravan-echo\",\"max_tokens\":2,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"one two three four five\"}]}"));
        assertEquals("length", body.at("/choices/0/finish_reason").asText(), body.toString());
        assertEquals(2, body.at("/usage/completion_tokens").asInt(), body.toString());
        assertEquals("You said: ", body.at("/choices/0/message/content").asText(), body.toString());
        assertEquals(body.at("/usage/prompt_tokens").asInt() + 2, body.at("/usage/total_tokens").asInt(),
                body.toString());
    }

    @Test
    void legacyCompletion() throws Exception {
        JsonNode body = ok(post(gateway, "/v1/completions",
                "{\"model\":\"caravan-echo\",\"prompt\":\"Say this is a test\"}"));
        assertEquals("text_completion", body.path("object").asText(), body.toString());
        assertTrue(body.path("id").asText().startsWith("cmpl-"), body.toString());
        assertEquals("caravan-echo", body.path("model").asText());
        String text = body.at("/choices/0/text").asText();
        assertTrue(text.startsWith("You said:"), body.toString());
        assertTrue(text.contains("Say this is a test"), body.toString());
        assertEquals(0, body.at("/choices/0/index").asInt());
        assertEquals("stop", body.at("/choices/0/finish_reason").asText(), body.toString());
        assertTrue(body.at("/usage/completion_tokens").asInt() > 0, body.toString());
    }

    @Test
    void legacyCompletionStreamed() throws Exception {
        HttpResponse<String> response = post(gateway, "/v1/completions",
                "{\"model\":\"caravan-echo\",\"prompt\":\"stream me please\",\"stream\":true}");
        assertEquals(200, response.statusCode(), response.body());
        assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"),
                response.headers().toString());
        List<String> data = sseData(response.body());
        assertTrue(data.size() >= 3, response.body());
        assertEquals("[DONE]", data.get(data.size() - 1), response.body());
        assertEquals(1, data.stream().filter("[DONE]"::equals).count(), response.body());
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (String frame : data.subList(0, data.size() - 1)) {
            JsonNode chunk = Json.MAPPER.readTree(frame);
            assertFalse(chunk.has("error"), frame);
            assertEquals("text_completion", chunk.path("object").asText(), frame);
            assertTrue(chunk.path("id").asText().startsWith("cmpl-"), frame);
            JsonNode choice = chunk.path("choices").path(0);
            if (!choice.isMissingNode()) {
                assertFalse(choice.has("delta"), "legacy chunks carry text, not delta: " + frame);
                text.append(choice.path("text").asText());
                if (choice.hasNonNull("finish_reason")) {
                    finish = choice.get("finish_reason").asText();
                }
            }
        }
        assertEquals("You said: stream me please", text.toString(), response.body());
        assertEquals("stop", finish, response.body());
    }

    // -- embeddings -------------------------------------------------------------------------------------------

    static double cosine(JsonNode a, JsonNode b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.size(); i++) {
            double x = a.get(i).asDouble();
            double y = b.get(i).asDouble();
            dot += x * y;
            na += x * x;
            nb += y * y;
        }
        return dot / Math.sqrt(na * nb);
    }

    @Test
    void embeddingsAreRealMiniLmVectors() throws Exception {
        JsonNode body = ok(post(gateway, "/v1/embeddings", "{\"model\":\"all-minilm-l6-v2\",\"input\":"
                + "[\"The cat sits on the mat\",\"A cat is sitting on a mat\",\"Quarterly revenue grew by ten percent\"]}"));
        assertEquals("list", body.path("object").asText(), body.toString());
        assertEquals("all-minilm-l6-v2", body.path("model").asText());
        JsonNode data = body.path("data");
        assertEquals(3, data.size());
        for (int i = 0; i < 3; i++) {
            JsonNode item = data.get(i);
            assertEquals("embedding", item.path("object").asText());
            assertEquals(i, item.path("index").asInt());
            assertEquals(384, item.path("embedding").size());
            for (JsonNode v : item.path("embedding")) {
                assertTrue(v.isNumber(), "floats: " + v);
            }
        }
        assertTrue(body.at("/usage/prompt_tokens").asInt() > 0, body.path("usage").toString());
        double similar = cosine(data.get(0).get("embedding"), data.get(1).get("embedding"));
        double unrelated = cosine(data.get(0).get("embedding"), data.get(2).get("embedding"));
        assertTrue(similar > unrelated + 0.2, "cos(cat, cat)=" + similar + " cos(cat, revenue)=" + unrelated);
    }

    @Test
    void embeddingsAsBase64() throws Exception {
        JsonNode floats = ok(post(gateway, "/v1/embeddings",
                "{\"model\":\"all-minilm-l6-v2\",\"input\":\"hello world\"}"));
        JsonNode body = ok(post(gateway, "/v1/embeddings",
                "{\"model\":\"all-minilm-l6-v2\",\"input\":\"hello world\",\"encoding_format\":\"base64\"}"));
        JsonNode embedding = body.at("/data/0/embedding");
        assertTrue(embedding.isTextual(), body.toString());
        byte[] bytes = Base64.getDecoder().decode(embedding.asText());
        assertEquals(384 * 4, bytes.length);
        ByteBuffer le = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        JsonNode expected = floats.at("/data/0/embedding");
        for (int i = 0; i < 384; i++) {
            assertEquals(expected.get(i).floatValue(), le.getFloat(), 1e-6, "component " + i);
        }
    }

    @Test
    void embeddingsWithoutV1() throws Exception {
        JsonNode body = ok(post(gateway, "/embeddings", "{\"model\":\"all-minilm-l6-v2\",\"input\":\"alias\"}"));
        assertEquals(1, body.path("data").size());
        assertEquals(384, body.at("/data/0/embedding").size());
    }

    // -- a gateway in front of emulated upstreams ----------------------------------------------------------------

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class WithUpstreams {

        UpstreamEmulator vllm;
        UpstreamEmulator ollama;
        GatewayInstance upstreamGateway;

        @BeforeAll
        void startUpstreams() {
            vllm = UpstreamEmulator.start();
            ollama = UpstreamEmulator.start();
            upstreamGateway = GatewayInstance.builder().config("""
                    backends:
                      vllm:
                        type: openai
                        url: %s
                      gpu:
                        type: ollama
                        url: %s
                    models:
                      "vllm/*": {backend: vllm}
                      "gpu/*": {backend: gpu}
                      llama3.2:
                        backend: gpu
                        upstream-model: "llama3.2:latest"
                        aliases: [llama]
                    """.formatted(vllm.baseUrl(), ollama.baseUrl())).start();
        }

        @AfterAll
        void stopUpstreams() {
            if (upstreamGateway != null) {
                upstreamGateway.close();
            }
            if (vllm != null) {
                vllm.close();
            }
            if (ollama != null) {
                ollama.close();
            }
        }

        @Test
        void modelsListDeclaredAndUpstreamModels() throws Exception {
            JsonNode list = ok(get(upstreamGateway, "/v1/models"));
            Set<String> ids = modelIds(list);
            assertTrue(ids.containsAll(Set.of("llama3.2", "vllm/emu-model", "vllm/emu-model-2",
                    "gpu/llama3.2:latest")), "listed: " + ids);
            assertFalse(ids.contains("caravan-echo"), "a gateway.yaml replaces the embedded default: " + ids);
            assertFalse(ids.contains("llama"), "aliases are not listed twice: " + ids);
            for (JsonNode model : list.path("data")) {
                String id = model.get("id").asText();
                String owner = model.get("owned_by").asText();
                if (id.startsWith("vllm/")) {
                    assertEquals("vllm", owner, model.toString());
                } else if (id.startsWith("gpu/") || id.equals("llama3.2")) {
                    assertEquals("gpu", owner, model.toString());
                }
            }
            assertTrue(vllm.requests() >= 1, "asked the OpenAI-compatible upstream for /v1/models");
            assertTrue(ollama.requests() >= 1, "asked Ollama for /api/tags");
        }

        @Test
        void declaredModelAndAliasById() throws Exception {
            JsonNode model = ok(get(upstreamGateway, "/v1/models/llama3.2"));
            assertModelObject(model);
            assertEquals("llama3.2", model.get("id").asText());
            JsonNode alias = ok(get(upstreamGateway, "/v1/models/llama"));
            assertEquals("llama", alias.get("id").asText());
        }

        /** Prefixed ids hold a slash; OpenAI SDKs retrieve them as GET /v1/models/vllm/emu-model. */
        @Test
        void aPrefixedUpstreamModelById() throws Exception {
            JsonNode model = ok(get(upstreamGateway, "/v1/models/vllm/emu-model"));
            assertModelObject(model);
            assertEquals("vllm/emu-model", model.get("id").asText());
            assertEquals("vllm", model.get("owned_by").asText());
        }

        @Test
        void healthListsBothBackends() throws Exception {
            JsonNode health = ok(get(upstreamGateway, "/health"));
            JsonNode backends = health.path("backends");
            assertEquals(Set.of("vllm", "gpu"), fieldNames(backends), health.toString());
            assertEquals("openai", backends.path("vllm").path("type").asText(), health.toString());
            assertEquals(vllm.baseUrl(), backends.path("vllm").path("url").asText(), health.toString());
            assertEquals("ollama", backends.path("gpu").path("type").asText(), health.toString());
            assertEquals(ollama.baseUrl(), backends.path("gpu").path("url").asText(), health.toString());
            for (JsonNode backend : backends) {
                assertNotNull(backend.path("lane").get("max_concurrent"), health.toString());
                assertNotNull(backend.path("lane").get("queue_size"), health.toString());
            }
        }

        @Test
        void chatThroughBothUpstreams() throws Exception {
            JsonNode viaVllm = ok(post(upstreamGateway, "/v1/chat/completions",
                    "{\"model\":\"vllm/emu-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
            assertEquals(UpstreamEmulator.DEFAULT_REPLY, viaVllm.at("/choices/0/message/content").asText());
            assertEquals("vllm/emu-model", viaVllm.path("model").asText(), "the id the client sent");
            assertEquals("emu-model", vllm.lastRequestBody().getString("model"), "the prefix is stripped upstream");

            JsonNode viaAlias = ok(post(upstreamGateway, "/v1/chat/completions",
                    "{\"model\":\"llama\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
            assertEquals(UpstreamEmulator.DEFAULT_REPLY, viaAlias.at("/choices/0/message/content").asText());
            assertEquals("llama3.2:latest", ollama.lastRequestBody().getString("model"));
            assertEquals("/api/chat", ollama.lastRequestPath());
        }

        private Set<String> fieldNames(JsonNode node) {
            Set<String> names = new HashSet<>();
            node.fieldNames().forEachRemaining(names::add);
            return names;
        }
    }
}
