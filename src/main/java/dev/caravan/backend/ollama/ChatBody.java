package dev.caravan.backend.ollama;

import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.backend.UpstreamCall;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;

/**
 * The /api/chat body for an OpenAI chat request: messages (see {@link ChatMessages}), sampling options under
 * Ollama's names, tools, and response_format as Ollama's "format".
 */
public final class ChatBody {

    private ChatBody() {
    }

    /** The /api/chat body; throws a 400 OpenAiError for what Ollama cannot take (remote image URLs, bad arguments). */
    public static ObjectNode of(UpstreamCall call, boolean stream) {
        ObjectNode request = call.request();
        ObjectNode body = Json.object();
        body.put("model", call.upstreamModel());
        body.set("messages", ChatMessages.of(request.path("messages")));
        body.put("stream", stream);
        ObjectNode options = options(request);
        if (!options.isEmpty()) {
            body.set("options", options);
        }
        JsonNode tools = request.get("tools");
        // Ollama has no tool_choice; "none" is honoured by not offering the tools at all
        if (tools != null && tools.isArray() && !tools.isEmpty()
                && !"none".equals(request.path("tool_choice").asText(null))) {
            body.set("tools", tools); // Ollama reads OpenAI's {"type":"function","function":{...}} as it is
        }
        JsonNode responseFormat = request.path("response_format");
        switch (responseFormat.path("type").asText("")) {
            case "json_object" -> body.put("format", "json");
            case "json_schema" -> {
                JsonNode schema = responseFormat.path("json_schema").get("schema");
                if (schema == null || !schema.isObject()) {
                    throw OpenAiError.invalidRequest("response_format.json_schema.schema",
                            "'response_format.json_schema.schema' must be a JSON schema object");
                }
                body.set("format", schema);
            }
            default -> {
                // "text" or absent: free text
            }
        }
        return body;
    }

    /** OpenAI sampling fields under Ollama's names; max_completion_tokens wins over the older max_tokens. */
    private static ObjectNode options(ObjectNode request) {
        ObjectNode options = Json.object();
        JsonNode max = request.hasNonNull("max_completion_tokens") ? request.get("max_completion_tokens")
                : request.get("max_tokens");
        if (max != null && max.isNumber()) {
            options.put("num_predict", max.asLong());
        }
        for (String field : List.of("temperature", "top_p", "seed", "presence_penalty", "frequency_penalty")) {
            JsonNode value = request.get(field);
            if (value != null && value.isNumber()) {
                options.set(field, value);
            }
        }
        JsonNode stop = request.get("stop");
        if (stop != null && stop.isTextual()) {
            options.putArray("stop").add(stop.asText());
        } else if (stop != null && stop.isArray() && !stop.isEmpty()) {
            options.set("stop", stop);
        }
        return options;
    }
}
