package dev.caravan.backend.local;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * caravan-echo: the built-in, deterministic chat model. It answers by echoing the last user message, so a new
 * user sees the whole path work (and tests can predict every byte) with no model installed.
 */
final class EchoModel {

    private EchoModel() {
    }

    /** The reply to a chat request, as tokens: words with their following space attached. */
    static List<String> replyTokens(JsonNode messages) {
        String last = lastUserText(messages);
        String reply = last.isBlank()
                ? "Hello! I am caravan-echo, the gateway's built-in test model. Send me a message and I will echo it."
                : "You said: " + last.strip();
        return tokens(reply);
    }

    static List<String> tokens(String text) {
        List<String> tokens = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == ' ') {
                tokens.add(text.substring(start, i + 1));
                start = i + 1;
            }
        }
        if (start < text.length()) {
            tokens.add(text.substring(start));
        }
        return tokens;
    }

    static String text(JsonNode content) {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.asText();
        }
        StringBuilder text = new StringBuilder();
        for (JsonNode part : content) { // [{"type":"text","text":"..."}, {"type":"image_url",...}]
            if (part.hasNonNull("text")) {
                if (text.length() > 0) {
                    text.append(' ');
                }
                text.append(part.get("text").asText());
            }
        }
        return text.toString();
    }

    private static String lastUserText(JsonNode messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            JsonNode message = messages.get(i);
            if ("user".equals(message.path("role").asText())) {
                return text(message.get("content"));
            }
        }
        return "";
    }
}
