package dev.caravan.backend;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;

/**
 * Turns OpenAI chat messages into one prompt for TGI's native /generate, which takes text, not messages.
 * The template is ChatML, the one Qwen, Hermes, Yi and many fine-tunes are trained on, and plain enough that other
 * instruction models follow it too:
 * <pre>
 * &lt;|im_start|&gt;system
 * You are brief.&lt;|im_end|&gt;
 * &lt;|im_start|&gt;user
 * Hi&lt;|im_end|&gt;
 * &lt;|im_start|&gt;assistant
 * </pre>
 * Generation stops at {@link #STOP}. A model trained on another template is better served through TGI's own
 * OpenAI layer (/v1/chat/completions, TGI ≥ 1.4), which applies the model's real template: declare such a
 * backend with {@code type: openai}.
 */
public final class ChatTemplate {

    /** Ends every turn; the stop sequence of every chat request. */
    public static final String STOP = "<|im_end|>";
    private static final String START = "<|im_start|>";

    private ChatTemplate() {
    }

    /** The prompt, ending with an open assistant turn for the model to complete. */
    public static String render(JsonNode messages) {
        StringBuilder prompt = new StringBuilder(256);
        for (int i = 0; i < messages.size(); i++) {
            JsonNode message = messages.get(i);
            String role = message.path("role").asText();
            prompt.append(START).append(switch (role) {
                case "developer" -> "system";
                case "function" -> "tool";
                default -> role;
            }).append('\n');
            prompt.append(text(message.get("content"), "messages[" + i + "].content"));
            appendToolCalls(message.get("tool_calls"), prompt);
            prompt.append(STOP).append('\n');
        }
        return prompt.append(START).append("assistant\n").toString();
    }

    /** A string, or the text parts of an array joined by newlines; TGI's text models take no images. */
    private static String text(JsonNode content, String param) {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.asText();
        }
        StringBuilder text = new StringBuilder();
        for (JsonNode part : content) {
            String type = part.isTextual() ? "text" : part.path("type").asText();
            if (!"text".equals(type)) {
                throw OpenAiError.invalidRequest(param, "TGI backends take text content parts only, not "
                        + OpenAiError.echo(type) + "; serve vision models through an OpenAI-compatible backend");
            }
            if (!text.isEmpty()) {
                text.append('\n');
            }
            text.append(part.isTextual() ? part.asText() : part.path("text").asText());
        }
        return text.toString();
    }

    /** Earlier tool calls of the assistant, written the Hermes way so that the model sees what it asked for. */
    private static void appendToolCalls(JsonNode calls, StringBuilder prompt) {
        if (calls == null || !calls.isArray()) {
            return;
        }
        for (JsonNode call : calls) {
            JsonNode function = call.path("function");
            JsonNode arguments = function.get("arguments");
            prompt.append("<tool_call>\n{\"name\":").append(Json.string(function.path("name")))
                    .append(",\"arguments\":")
                    .append(arguments == null || arguments.isNull() ? "{}"
                            : arguments.isTextual() ? arguments.asText() : Json.string(arguments))
                    .append("}\n</tool_call>");
        }
    }
}
