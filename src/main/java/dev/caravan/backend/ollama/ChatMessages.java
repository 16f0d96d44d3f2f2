package dev.caravan.backend.ollama;

import java.util.HashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;

/** OpenAI chat messages as Ollama's: roles it knows, text as one string, images as bare base64, tool calls. */
final class ChatMessages {

    private ChatMessages() {
    }

    static ArrayNode of(JsonNode messages) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        Map<String, String> toolNames = new HashMap<>(); // tool_call_id → function name, for tool results
        for (int i = 0; i < messages.size(); i++) {
            JsonNode message = messages.get(i);
            String where = "messages[" + i + "]";
            String role = message.path("role").asText();
            ObjectNode converted = out.addObject();
            converted.put("role", switch (role) {
                case "developer" -> "system"; // Ollama's templates know system, user, assistant, tool
                case "function" -> "tool";
                default -> role;
            });
            content(message.get("content"), converted, where);
            JsonNode calls = message.get("tool_calls");
            if (calls != null && calls.isArray() && !calls.isEmpty()) {
                converted.set("tool_calls", ToolCalls.toOllama(calls, toolNames, where));
            }
            // newer Ollama versions tell tool results apart by tool_name; older ones ignore the field
            String toolName = "tool".equals(role) ? toolNames.get(message.path("tool_call_id").asText())
                    : "function".equals(role) ? message.path("name").asText(null) : null;
            if (toolName != null) {
                converted.put("tool_name", toolName);
            }
        }
        return out;
    }

    /** Text as "content" (parts joined by newlines); images, which Ollama takes as bare base64, as "images". */
    private static void content(JsonNode content, ObjectNode converted, String where) {
        if (content == null || content.isNull()) {
            converted.put("content", "");
            return;
        }
        if (content.isTextual()) {
            converted.put("content", content.asText());
            return;
        }
        StringBuilder text = new StringBuilder();
        ArrayNode images = null;
        for (JsonNode part : content) {
            String type = part.isTextual() ? "text" : part.path("type").asText();
            if ("text".equals(type)) {
                if (!text.isEmpty()) {
                    text.append('\n');
                }
                text.append(part.isTextual() ? part.asText() : part.path("text").asText());
            } else if ("image_url".equals(type)) {
                JsonNode image = part.get("image_url");
                String url = image != null && image.isTextual() ? image.asText() : image == null ? "" : image.path("url").asText();
                if (images == null) {
                    images = converted.putArray("images");
                }
                images.add(dataUrlBase64(url, where));
            } else {
                throw OpenAiError.invalidRequest(where + ".content",
                        "Ollama backends take text and image_url content parts, not " + OpenAiError.echo(type));
            }
        }
        converted.put("content", text.toString());
    }

    private static String dataUrlBase64(String url, String where) {
        int comma = url.indexOf(',');
        if (!url.startsWith("data:") || comma < 0 || !url.substring(0, comma).endsWith(";base64")) {
            // Ollama reads image bytes only; fetching remote URLs for it would make the gateway a web client
            throw OpenAiError.invalidRequest(where + ".content",
                    "Ollama backends take images as base64 data: URLs only");
        }
        return url.substring(comma + 1);
    }
}
