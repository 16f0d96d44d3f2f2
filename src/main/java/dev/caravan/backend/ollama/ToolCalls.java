package dev.caravan.backend.ollama;

import java.io.IOException;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.Chunks;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;

/** Tool calls both ways: Ollama carries a call's arguments as a JSON object, OpenAI as a JSON string. */
final class ToolCalls {

    private ToolCalls() {
    }

    /** The assistant's earlier calls for Ollama; records each call's function name by id for the tool results. */
    static ArrayNode toOllama(JsonNode calls, Map<String, String> toolNames, String where) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (int j = 0; j < calls.size(); j++) {
            JsonNode call = calls.get(j);
            JsonNode function = call.path("function");
            String name = function.path("name").asText();
            if (call.hasNonNull("id")) {
                toolNames.put(call.get("id").asText(), name);
            }
            ObjectNode converted = out.addObject().putObject("function");
            converted.put("name", name);
            converted.set("arguments", argumentsObject(function.get("arguments"),
                    where + ".tool_calls[" + j + "].function.arguments"));
        }
        return out;
    }

    /** OpenAI sends arguments as a JSON string; Ollama wants the object itself. */
    private static JsonNode argumentsObject(JsonNode arguments, String param) {
        if (arguments == null || arguments.isNull() || arguments.isObject()) {
            return arguments == null || arguments.isNull() ? Json.object() : arguments;
        }
        String text = arguments.asText();
        if (text.isBlank()) {
            return Json.object();
        }
        try {
            JsonNode parsed = Json.MAPPER.readTree(text);
            if (parsed != null && parsed.isObject()) {
                return parsed;
            }
        } catch (IOException e) {
            // falls through to the 400 below
        }
        throw OpenAiError.invalidRequest(param, "'" + param + "' must be a JSON object in a string");
    }

    /**
     * OpenAI tool calls from Ollama's: arguments object → JSON string, an id made up when Ollama gave none.
     * {@code firstIndex} ≥ 0 adds the "index" field that stream deltas carry.
     */
    static ArrayNode toOpenAi(JsonNode calls, int firstIndex) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (JsonNode call : calls) {
            JsonNode function = call.path("function");
            ObjectNode converted = out.addObject();
            if (firstIndex >= 0) {
                converted.put("index", firstIndex + out.size() - 1);
            }
            converted.put("id", call.hasNonNull("id") ? call.get("id").asText() : Chunks.newId("call_"));
            converted.put("type", "function");
            ObjectNode fn = converted.putObject("function");
            fn.put("name", function.path("name").asText());
            JsonNode arguments = function.get("arguments");
            fn.put("arguments", arguments == null || arguments.isNull() ? "{}"
                    : arguments.isTextual() ? arguments.asText() : Json.string(arguments));
        }
        return out;
    }
}
