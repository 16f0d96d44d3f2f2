package dev.caravan.backend;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.support.EmulatedGateway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static dev.caravan.backend.OllamaBackendTest.chunks;
import static dev.caravan.backend.OllamaBackendTest.content;
import static dev.caravan.backend.OllamaBackendTest.json;
import static dev.caravan.backend.OllamaBackendTest.sseData;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The TGI adapter through the real gateway, against the emulator's TGI dialect: chat becomes a ChatML prompt for
 * /generate and /generate_stream, /v1/completions goes to TGI as it is, and TGI's details become OpenAI usage and
 * finish reasons. Prompt token counts come from TGI itself (x-prompt-tokens, details.input_length), so they are the
 * emulator's word count of the prompt it received.
 */
class TgiBackendTest {

    private static final String MESSAGES = "\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
            + "{\"role\":\"user\",\"content\":\"say hi please\"}]";
    private static final String PROMPT = "<|im_start|>system\nbe brief<|im_end|>\n"
            + "<|im_start|>user\nsay hi please<|im_end|>\n<|im_start|>assistant\n";
    private static final String REPLY = UpstreamEmulator.DEFAULT_REPLY; // 8 tokens

    @RegisterExtension
    static final EmulatedGateway env = EmulatedGateway.withEmulator(emulator -> """
            backends:
              tgi: {type: tgi, url: "%s", max-concurrent: 4}
              slow: {type: tgi, url: "%s", timeout-seconds: 1}
            models:
              mistral: {backend: tgi}
              "tgi/*": {backend: tgi}
              patient: {backend: slow}
            """.formatted(emulator.baseUrl(), emulator.extraBaseUrl()));

    @Test
    void chatBecomesAChatMlPromptAndTheReplyAChatCompletion() throws Exception {
        HttpResponse<String> response = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"mistral\"," + MESSAGES
                + ",\"max_tokens\":5,\"temperature\":0,\"top_p\":1,\"seed\":3}");

        assertEquals(200, response.statusCode(), response.body());
        assertEquals("/generate", env.upstream().lastRequestPath());
        // temperature 0 and top_p 1 mean "no change" and TGI refuses both, so they are left out
        assertEquals(json("{\"inputs\":" + quote(PROMPT) + ",\"parameters\":{\"max_new_tokens\":5,\"seed\":3,"
                + "\"stop\":[\"<|im_end|>\"],\"details\":true,\"decoder_input_details\":false,"
                + "\"return_full_text\":false}}"), upstreamBody());
        JsonNode body = json(response.body());
        assertEquals("chat.completion", body.get("object").asText());
        assertEquals("mistral", body.get("model").asText());
        assertEquals("Hello from the emulator! How ", body.at("/choices/0/message/content").asText());
        assertEquals("length", body.at("/choices/0/finish_reason").asText());
        assertEquals(usage(promptWords(), 5), body.get("usage"));
    }

    @Test
    void streamFollowsTheContractWithTgisCounts() throws Exception {
        HttpResponse<String> response = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"mistral\"," + MESSAGES
                + ",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"temperature\":0.7}");

        assertEquals(200, response.statusCode(), response.body());
        assertEquals("/generate_stream", env.upstream().lastRequestPath());
        assertEquals(512, upstreamBody().at("/parameters/max_new_tokens").asInt());
        assertEquals(0.7, upstreamBody().at("/parameters/temperature").asDouble());
        List<String> events = sseData(response.body());
        assertEquals("[DONE]", events.get(events.size() - 1));
        List<JsonNode> chunks = chunks(events.subList(0, events.size() - 1));
        assertEquals("assistant", chunks.get(0).at("/choices/0/delta/role").asText());
        assertEquals(REPLY, content(chunks));
        assertEquals("stop", chunks.get(chunks.size() - 2).at("/choices/0/finish_reason").asText()); // eos_token
        JsonNode usage = chunks.get(chunks.size() - 1);
        assertTrue(usage.get("choices").isEmpty());
        assertEquals(usage(promptWords(), 8), usage.get("usage"));
    }

    @Test
    void streamWithoutIncludeUsageHasNoUsageChunk() throws Exception {
        String body = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"mistral\"," + MESSAGES + ",\"stream\":true}").body();

        List<String> events = sseData(body);
        assertEquals("[DONE]", events.get(events.size() - 1));
        List<JsonNode> chunks = chunks(events.subList(0, events.size() - 1));
        chunks.forEach(chunk -> assertFalse(chunk.get("choices").isEmpty(), chunk.toString()));
        assertEquals("stop", chunks.get(chunks.size() - 1).at("/choices/0/finish_reason").asText());
        assertEquals(REPLY, content(chunks));
    }

    @Test
    void theStopSequenceTgiKeepsIsCut() throws Exception {
        env.upstream().reply("one two END three"); // TGI stops at "END " and returns it in the text
        String request = "{\"model\":\"mistral\"," + MESSAGES + ",\"stop\":[\"END\"]";

        JsonNode whole = json(env.gateway().postJson("/v1/chat/completions", request + "}").body());
        assertEquals(json("[\"<|im_end|>\",\"END\"]"), upstreamBody().at("/parameters/stop"));
        assertEquals("one two ", whole.at("/choices/0/message/content").asText());
        assertEquals("stop", whole.at("/choices/0/finish_reason").asText());

        List<String> events = sseData(env.gateway().postJson("/v1/chat/completions",
                request + ",\"stream\":true}").body());
        assertEquals("[DONE]", events.get(events.size() - 1));
        List<JsonNode> chunks = chunks(events.subList(0, events.size() - 1));
        assertEquals("one two ", content(chunks));
        assertEquals("stop", chunks.get(chunks.size() - 1).at("/choices/0/finish_reason").asText());
    }

    @Test
    void stopsBeyondTgisFourAreAppliedByTheGateway() throws Exception {
        env.upstream().reply("one two three four five six");
        String request = "{\"model\":\"mistral\"," + MESSAGES + ",\"stop\":[\"x1\",\"x2\",\"x3\",\"four\"]";

        List<String> events = sseData(env.gateway().postJson("/v1/chat/completions",
                request + ",\"stream\":true}").body());
        assertEquals(json("[\"<|im_end|>\",\"x1\",\"x2\",\"x3\"]"), upstreamBody().at("/parameters/stop"));
        assertEquals("[DONE]", events.get(events.size() - 1));
        List<JsonNode> chunks = chunks(events.subList(0, events.size() - 1));
        assertEquals("one two three ", content(chunks));
        assertEquals("stop", chunks.get(chunks.size() - 1).at("/choices/0/finish_reason").asText());

        JsonNode whole = json(env.gateway().postJson("/v1/chat/completions", request + "}").body());
        assertEquals("one two three ", whole.at("/choices/0/message/content").asText());
    }

    @Test
    void legacyCompletionsGoToTgiAsTheyAre() throws Exception {
        HttpResponse<String> response = env.gateway().postJson("/v1/completions",
                "{\"model\":\"mistral\",\"prompt\":\"Once upon a time\",\"max_tokens\":4}");

        assertEquals(200, response.statusCode(), response.body());
        assertEquals("/generate", env.upstream().lastRequestPath());
        assertEquals("Once upon a time", upstreamBody().get("inputs").asText());
        assertFalse(upstreamBody().get("parameters").has("stop"));
        JsonNode body = json(response.body());
        assertEquals("text_completion", body.get("object").asText());
        assertTrue(body.get("id").asText().startsWith("cmpl-"));
        assertEquals("mistral", body.get("model").asText());
        assertEquals("Hello from the emulator! ", body.at("/choices/0/text").asText());
        assertEquals(0, body.at("/choices/0/index").asInt());
        assertTrue(body.at("/choices/0/logprobs").isNull());
        assertEquals("length", body.at("/choices/0/finish_reason").asText());
        assertEquals(usage(4, 4), body.get("usage"));
    }

    @Test
    void legacyCompletionsStreamAsTextCompletionChunks() throws Exception {
        HttpResponse<String> response = env.gateway().postJson("/v1/completions", "{\"model\":\"mistral\","
                + "\"prompt\":\"Once upon a time\",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");

        assertEquals(200, response.statusCode(), response.body());
        assertEquals("/generate_stream", env.upstream().lastRequestPath());
        List<String> events = sseData(response.body());
        assertEquals("[DONE]", events.get(events.size() - 1));
        List<JsonNode> chunks = chunks(events.subList(0, events.size() - 1));
        StringBuilder text = new StringBuilder();
        String id = chunks.get(0).get("id").asText();
        for (JsonNode chunk : chunks) {
            assertEquals("text_completion", chunk.get("object").asText());
            assertEquals(id, chunk.get("id").asText());
            text.append(chunk.at("/choices/0/text").asText(""));
        }
        assertEquals(REPLY, text.toString());
        JsonNode last = chunks.get(chunks.size() - 2).at("/choices/0");
        assertEquals("", last.get("text").asText());
        assertEquals("stop", last.get("finish_reason").asText());
        JsonNode usage = chunks.get(chunks.size() - 1);
        assertTrue(usage.get("choices").isEmpty());
        assertEquals(usage(4, 8), usage.get("usage"));
    }

    @Test
    void aStreamCutUpstreamEndsWithAnErrorEventAndNoDone() throws Exception {
        env.upstream().cutAfterTokens(2);
        HttpResponse<String> response = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"mistral\"," + MESSAGES + ",\"stream\":true}");

        assertEquals(200, response.statusCode());
        assertFalse(response.body().contains("[DONE]"), response.body());
        List<String> events = sseData(response.body());
        JsonNode error = json(events.get(events.size() - 1)).get("error");
        assertTrue(error.isObject() && error.hasNonNull("message"), response.body());
        assertEquals("Hello from ", content(chunks(events.subList(0, events.size() - 1))));
    }

    @Test
    void anUpstreamFailureIsA502WithAnOpenAiError() throws Exception {
        env.upstream().failNext(3, 500); // every attempt (gateway.retry.max-attempts) fails
        HttpResponse<String> response = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"mistral\"," + MESSAGES + "}");

        assertEquals(502, response.statusCode(), response.body());
        JsonNode error = json(response.body()).get("error");
        for (String field : List.of("message", "type", "param", "code")) {
            assertTrue(error.has(field), field + " in " + error);
        }
        assertTrue(error.get("message").asText().contains("emulated failure"), error.toString());
    }

    @Test
    void anUpstreamThatNeverAnswersIsAbortedAtTheDeadline() throws Exception {
        env.upstream().hangNext(1);
        HttpResponse<String> response = env.gateway().postJson("/v1/chat/completions",
                "{\"model\":\"patient\"," + MESSAGES + "}");

        assertEquals(504, response.statusCode(), response.body());
        assertEquals("deadline_exceeded", json(response.body()).at("/error/code").asText());
        assertTrue(env.upstream().awaitClientAborts(1, Duration.ofSeconds(5)), "the upstream request was reset");
    }

    @Test
    void embeddingsAreRefused() throws Exception {
        HttpResponse<String> response = env.gateway().postJson("/v1/embeddings",
                "{\"model\":\"mistral\",\"input\":\"hi\"}");

        assertEquals(400, response.statusCode(), response.body());
        JsonNode error = json(response.body()).get("error");
        assertEquals("invalid_request_error", error.get("type").asText());
        assertEquals("model", error.get("param").asText());
        assertEquals("TGI backends do not serve embeddings", error.get("message").asText());
        assertTrue(env.upstream().requestBodies().isEmpty(), "no upstream call was made");
    }

    @Test
    void prefixModelsListTheModelTgiServes() throws Exception {
        JsonNode models = json(env.gateway().get("/v1/models").body());
        List<String> ids = new ArrayList<>();
        models.get("data").forEach(m -> ids.add(m.get("id").asText()));
        assertTrue(ids.contains("tgi/emu-tgi"), ids.toString());
    }

    // -- helpers --------------------------------------------------------------------------------------------------

    /** The emulator's prompt token count: whitespace-separated words of the inputs it received. */
    private static int promptWords() {
        return upstreamBody().get("inputs").asText().trim().split("\\s+").length;
    }

    private static JsonNode usage(long prompt, long completion) {
        return json("{\"prompt_tokens\":" + prompt + ",\"completion_tokens\":" + completion + ",\"total_tokens\":"
                + (prompt + completion) + "}");
    }

    private static JsonNode upstreamBody() {
        return json(env.upstream().lastRequestBodyText());
    }

    private static String quote(String text) {
        return dev.caravan.openai.Json.string(com.fasterxml.jackson.databind.node.TextNode.valueOf(text));
    }
}
