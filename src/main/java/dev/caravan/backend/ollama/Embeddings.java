package dev.caravan.backend.ollama;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.backend.UpstreamCall;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.PromptTokens;
import dev.caravan.openai.TokenEstimate;

/** OpenAI /v1/embeddings to Ollama's /api/embed and back, base64 encoding included. */
public final class Embeddings {

    private Embeddings() {
    }

    /** The /api/embed body; throws a 400 OpenAiError for input that is not text. */
    public static ObjectNode body(UpstreamCall call) {
        JsonNode input = call.request().get("input");
        boolean text = input != null && (input.isTextual() || input.isArray() && !input.isEmpty());
        if (text && input.isArray()) {
            for (JsonNode item : input) {
                text &= item.isTextual();
            }
        }
        if (!text) {
            throw OpenAiError.invalidRequest("input", "Ollama backends embed text: a string or an array of strings");
        }
        ObjectNode body = Json.object();
        body.put("model", call.upstreamModel());
        body.set("input", input);
        JsonNode dimensions = call.request().get("dimensions");
        if (dimensions != null && dimensions.isInt()) {
            body.set("dimensions", dimensions); // newer Ollama versions truncate to it; older ones ignore it
        }
        return body;
    }

    public static ObjectNode reply(UpstreamCall call, JsonNode reply, boolean base64) {
        JsonNode vectors = reply.get("embeddings");
        if (vectors == null || !vectors.isArray()) {
            throw OpenAiError.upstream("The upstream answered without embeddings", null);
        }
        ObjectNode list = Json.object();
        list.put("object", "list");
        ArrayNode data = list.putArray("data");
        for (int i = 0; i < vectors.size(); i++) {
            ObjectNode item = data.addObject();
            item.put("object", "embedding");
            item.put("index", i);
            JsonNode vector = vectors.get(i);
            if (base64) { // float32 little-endian, as OpenAI's SDKs decode it
                ByteBuffer bytes = ByteBuffer.allocate(vector.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
                vector.forEach(v -> bytes.putFloat((float) v.doubleValue()));
                item.put("embedding", Base64.getEncoder().encodeToString(bytes.array()));
            } else {
                item.set("embedding", vector);
            }
        }
        list.put("model", call.route().model());
        long tokens = reply.hasNonNull("prompt_eval_count") ? reply.get("prompt_eval_count").asLong()
                : TokenEstimate.of(PromptTokens.text(call.request().get("input")));
        ObjectNode usage = list.putObject("usage");
        usage.put("prompt_tokens", tokens);
        usage.put("total_tokens", tokens);
        return list;
    }
}
