package dev.caravan.steps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What a call-out's JSON answer does to the request, in this order:
 * <ul>
 * <li>{@code {"verdict":"deny","reason":"..."}}: the request is refused, 400 content_policy with the reason;</li>
 * <li>{@code {"messages":[...]}}: the conversation is replaced;</li>
 * <li>{@code {"system":"..."}}: the text joins the system message (appended after a blank line to a leading
 * system message with text content, else a new system message first);</li>
 * <li>{@code {"set":{...}}}: these top-level fields of the request are set (null removes one).</li>
 * </ul>
 * Any other field is ignored; {@code {}} (or {"verdict":"allow"}) changes nothing.
 */
final class CallOutAnswer {

    private static final int REASON_CHARS = 200;

    private CallOutAnswer() {
    }

    static void apply(JsonNode answer, ObjectNode request) {
        if ("deny".equals(answer.path("verdict").asText())) {
            String reason = answer.path("reason").asText("");
            reason = reason.length() > REASON_CHARS ? reason.substring(0, REASON_CHARS) + "…" : reason;
            throw StepErrors.contentPolicy(null, reason.isBlank() ? "The request was refused by the content policy."
                    : "The request was refused by the content policy: " + ControlCharacters.strip(reason));
        }
        if (answer.get("messages") instanceof ArrayNode messages) {
            request.set("messages", messages);
        }
        if (answer.path("system").isTextual() && request.get("messages") instanceof ArrayNode messages) {
            addSystem(messages, answer.get("system").asText());
        }
        if (answer.get("set") instanceof ObjectNode set) {
            set.fields().forEachRemaining(field -> {
                if (field.getValue().isNull()) {
                    request.remove(field.getKey());
                } else {
                    request.set(field.getKey(), field.getValue());
                }
            });
        }
    }

    private static void addSystem(ArrayNode messages, String text) {
        JsonNode first = messages.isEmpty() ? null : messages.get(0);
        if (first instanceof ObjectNode system && "system".equals(system.path("role").asText())
                && system.path("content").isTextual()) {
            system.put("content", system.get("content").asText() + "\n\n" + text);
            return;
        }
        ObjectNode system = messages.insertObject(0);
        system.put("role", "system");
        system.put("content", text);
    }
}
