package dev.caravan.backend.tgi;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.backend.ChatTemplate;
import dev.caravan.backend.UpstreamCall;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.PromptTokens;

/** What TGI generates from, and the stops that end it; {@code chat} picks the reply's shape. */
public record Prompt(String inputs, List<String> stops, boolean chat) {

    /** Chat through {@link ChatTemplate}, a legacy prompt as it is; a 400 OpenAiError for what TGI cannot take. */
    public static Prompt of(UpstreamCall call) {
        ObjectNode request = call.request();
        List<String> stops = new ArrayList<>();
        return switch (call.operation()) {
            case EMBEDDINGS -> throw new OpenAiError(400, "invalid_request_error", "model_not_supported", "model",
                    "TGI backends do not serve embeddings");
            case CHAT -> {
                stops.add(ChatTemplate.STOP);
                addStops(request.get("stop"), stops);
                yield new Prompt(ChatTemplate.render(request.path("messages")), stops, true);
            }
            case COMPLETION -> {
                addStops(request.get("stop"), stops);
                yield new Prompt(legacyPrompt(request.get("prompt")), stops, false);
            }
        };
    }

    /** One text prompt; several prompts (a batch) or token ids have no TGI /generate equivalent. */
    private static String legacyPrompt(JsonNode prompt) {
        if (prompt != null && prompt.isArray() && prompt.size() == 1 && prompt.get(0).isTextual()) {
            return prompt.get(0).asText();
        }
        if (prompt == null || !prompt.isTextual()) {
            throw OpenAiError.invalidRequest("prompt", "TGI backends take one text prompt, not a batch or token ids");
        }
        return PromptTokens.text(prompt);
    }

    private static void addStops(JsonNode stop, List<String> stops) {
        if (stop != null && stop.isTextual() && !stop.asText().isEmpty()) {
            stops.add(stop.asText());
        } else if (stop != null && stop.isArray()) {
            for (JsonNode s : stop) {
                if (s.isTextual() && !s.asText().isEmpty()) {
                    stops.add(s.asText());
                }
            }
        }
    }
}
