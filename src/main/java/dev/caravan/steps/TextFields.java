package dev.caravan.steps;

import java.util.function.Consumer;
import java.util.function.UnaryOperator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The human text of requests and replies, where the steps look for words and rewrite them: a chat message's
 * content (a string, or the text of its content parts), a legacy prompt (a string or an array of strings), a
 * completion's choices (message.content or text). Everything else (ids, tool-call arguments, images) is left alone.
 */
final class TextFields {

    private TextFields() {
    }

    /** Calls the visitor with each text of a request: every message's content, or the prompt. */
    static void forEachInRequest(ObjectNode request, Consumer<String> visitor) {
        JsonNode messages = request.get("messages");
        if (messages != null && messages.isArray()) {
            for (JsonNode message : messages) {
                forEachInContent(message.get("content"), visitor);
            }
        }
        forEachInContent(request.get("prompt"), visitor);
    }

    /** Rewrites each text of a request in place. */
    static void rewriteRequest(ObjectNode request, UnaryOperator<String> rewrite) {
        JsonNode messages = request.get("messages");
        if (messages != null && messages.isArray()) {
            for (JsonNode message : messages) {
                if (message instanceof ObjectNode m) {
                    rewriteField(m, "content", rewrite);
                }
            }
        }
        rewriteField(request, "prompt", rewrite);
    }

    /** Rewrites the answer text of a chat.completion or text_completion in place. */
    static void rewriteCompletion(ObjectNode completion, UnaryOperator<String> rewrite) {
        JsonNode choices = completion.get("choices");
        if (choices == null || !choices.isArray()) {
            return;
        }
        for (JsonNode choice : choices) {
            if (choice.get("message") instanceof ObjectNode message) {
                rewriteField(message, "content", rewrite);
            }
            if (choice instanceof ObjectNode c && c.has("text")) {
                rewriteField(c, "text", rewrite);
            }
        }
    }

    /** The text of a content value: a string, or the "text" of content parts (or strings in an array). */
    static void forEachInContent(JsonNode content, Consumer<String> visitor) {
        if (content == null) {
            return;
        }
        if (content.isTextual()) {
            visitor.accept(content.asText());
        } else if (content.isArray()) {
            for (JsonNode part : content) {
                if (part.isTextual()) {
                    visitor.accept(part.asText());
                } else if (part.path("text").isTextual()) {
                    visitor.accept(part.get("text").asText());
                }
            }
        }
    }

    /** The concatenated text of one content value (for classifiers and size checks). */
    static String contentText(JsonNode content) {
        StringBuilder text = new StringBuilder();
        forEachInContent(content, part -> {
            if (!text.isEmpty()) {
                text.append('\n');
            }
            text.append(part);
        });
        return text.toString();
    }

    private static void rewriteField(ObjectNode holder, String field, UnaryOperator<String> rewrite) {
        JsonNode value = holder.get(field);
        if (value == null) {
            return;
        }
        if (value.isTextual()) {
            String before = value.asText();
            String after = rewrite.apply(before);
            if (!after.equals(before)) {
                holder.put(field, after);
            }
        } else if (value instanceof ArrayNode parts) {
            for (int i = 0; i < parts.size(); i++) {
                JsonNode part = parts.get(i);
                if (part.isTextual()) {
                    parts.set(i, parts.textNode(rewrite.apply(part.asText())));
                } else if (part instanceof ObjectNode p && p.path("text").isTextual()) {
                    rewriteField(p, "text", rewrite);
                }
            }
        }
    }
}
