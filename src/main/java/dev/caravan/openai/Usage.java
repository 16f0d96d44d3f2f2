package dev.caravan.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Token counts of one request; {@code estimated} when the upstream gave none and the gateway counted. */
public record Usage(long promptTokens, long completionTokens, boolean estimated) {

    public long totalTokens() {
        return promptTokens + completionTokens;
    }

    public ObjectNode toJson() {
        ObjectNode usage = Json.object();
        usage.put("prompt_tokens", promptTokens);
        usage.put("completion_tokens", completionTokens);
        usage.put("total_tokens", totalTokens());
        return usage;
    }

    /** Reads OpenAI's usage object; null when absent. */
    public static Usage of(JsonNode usage) {
        if (usage == null || !usage.isObject()) {
            return null;
        }
        return new Usage(usage.path("prompt_tokens").asLong(), usage.path("completion_tokens").asLong(), false);
    }
}
