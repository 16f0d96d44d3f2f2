package dev.caravan.stream;

import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.Json;
import dev.caravan.openai.Usage;

/**
 * Folds streamed chunks back into the complete reply (a {@code chat.completion} or {@code text_completion}),
 * so post-hooks see one shape whether the client streamed or not.
 */
public final class CompletionAssembler {

    private final StringBuilder content = new StringBuilder();
    private final Map<Integer, ToolCall> toolCalls = new TreeMap<>();
    private String id;
    private long created;
    private String model;
    private String systemFingerprint;
    private String finishReason;
    private boolean text;
    private boolean sawContent;
    private Usage usage;

    public void add(ObjectNode chunk) {
        if (id == null && chunk.hasNonNull("id")) {
            id = chunk.get("id").asText();
            created = chunk.path("created").asLong();
            model = chunk.path("model").asText(null);
            text = "text_completion".equals(chunk.path("object").asText());
        }
        if (chunk.hasNonNull("system_fingerprint")) {
            systemFingerprint = chunk.get("system_fingerprint").asText();
        }
        Usage u = Usage.of(chunk.get("usage"));
        if (u != null) {
            usage = u;
        }
        JsonNode choices = chunk.get("choices");
        if (choices == null || choices.isEmpty()) {
            return;
        }
        JsonNode choice = choices.get(0);
        if (choice.hasNonNull("finish_reason")) {
            finishReason = choice.get("finish_reason").asText();
        }
        if (text) {
            appendContent(choice.get("text"));
            return;
        }
        JsonNode delta = choice.path("delta");
        appendContent(delta.get("content"));
        JsonNode calls = delta.get("tool_calls");
        if (calls != null && calls.isArray()) {
            for (JsonNode call : calls) {
                toolCalls.computeIfAbsent(call.path("index").asInt(toolCalls.size()), i -> new ToolCall()).add(call);
            }
        }
    }

    /** Usage an upstream reported on a chunk the hooks have since rewritten. */
    void reportUsage(JsonNode reported) {
        Usage u = Usage.of(reported);
        if (u != null) {
            usage = u;
        }
    }

    private void appendContent(JsonNode piece) {
        if (piece != null && piece.isTextual()) {
            content.append(piece.asText());
            sawContent = true;
        }
    }

    public CharSequence content() {
        return content;
    }

    public Usage usage() {
        return usage;
    }

    public String finishReason() {
        return finishReason;
    }

    /** The reply as a non-streaming client would have received it. */
    public ObjectNode toCompletion() {
        ObjectNode completion = Json.object();
        completion.put("id", id);
        completion.put("object", text ? "text_completion" : "chat.completion");
        completion.put("created", created);
        completion.put("model", model);
        ArrayNode choices = completion.putArray("choices");
        ObjectNode choice = choices.addObject();
        choice.put("index", 0);
        if (text) {
            choice.put("text", content.toString());
        } else {
            ObjectNode message = choice.putObject("message");
            message.put("role", "assistant");
            if (sawContent || toolCalls.isEmpty()) {
                message.put("content", content.toString());
            } else {
                message.putNull("content");
            }
            if (!toolCalls.isEmpty()) {
                ArrayNode calls = message.putArray("tool_calls");
                toolCalls.values().forEach(call -> calls.add(call.toJson()));
            }
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason);
        if (usage != null) {
            completion.set("usage", usage.toJson());
        }
        if (systemFingerprint != null) {
            completion.put("system_fingerprint", systemFingerprint);
        }
        return completion;
    }

    /** One tool call assembled from its streamed pieces: id, type and name arrive once, arguments in parts. */
    private static final class ToolCall {
        private String id;
        private String type = "function";
        private String name;
        private final StringBuilder arguments = new StringBuilder();

        void add(JsonNode piece) {
            if (piece.hasNonNull("id")) {
                id = piece.get("id").asText();
            }
            if (piece.hasNonNull("type")) {
                type = piece.get("type").asText();
            }
            JsonNode function = piece.path("function");
            if (function.hasNonNull("name")) {
                name = function.get("name").asText();
            }
            if (function.hasNonNull("arguments")) {
                arguments.append(function.get("arguments").asText());
            }
        }

        ObjectNode toJson() {
            ObjectNode call = Json.object();
            call.put("id", id);
            call.put("type", type);
            ObjectNode function = call.putObject("function");
            function.put("name", name);
            function.put("arguments", arguments.toString());
            return call;
        }
    }
}
