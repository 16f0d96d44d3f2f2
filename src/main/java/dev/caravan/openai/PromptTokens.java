package dev.caravan.openai;

import com.fasterxml.jackson.databind.JsonNode;

/** An estimate of a request's prompt tokens, for when the upstream reports none (and for admission control). */
public final class PromptTokens {

    private PromptTokens() {
    }

    public static long estimate(JsonNode request) {
        long tokens = 0;
        JsonNode messages = request.get("messages");
        if (messages != null) {
            for (JsonNode message : messages) {
                tokens += 4 + TokenEstimate.of(text(message.get("content")));
            }
        }
        JsonNode prompt = request.get("prompt");
        if (prompt != null) {
            tokens += TokenEstimate.of(text(prompt));
        }
        return tokens;
    }

    /** The text of a content field: a string, or the text parts of an array. */
    public static String text(JsonNode content) {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.asText();
        }
        StringBuilder text = new StringBuilder();
        for (JsonNode part : content) {
            if (part.isTextual()) {
                text.append(part.asText());
            } else if (part.hasNonNull("text")) {
                text.append(part.get("text").asText());
            }
        }
        return text.toString();
    }
}
