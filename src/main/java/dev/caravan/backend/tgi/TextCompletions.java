package dev.caravan.backend.tgi;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.Json;
import dev.caravan.openai.Usage;

/**
 * OpenAI's legacy text_completion objects, whole and as stream chunks: what TGI serves /v1/completions as, since
 * it takes the client's prompt as it is.
 */
final class TextCompletions {

    private TextCompletions() {
    }

    static ObjectNode completion(String id, long created, String model, String text, String finishReason,
                                 Usage usage) {
        ObjectNode completion = chunk(id, created, model, text, finishReason);
        completion.set("usage", usage.toJson());
        return completion;
    }

    /** One piece of a stream; {@code finishReason} null until the last. */
    static ObjectNode chunk(String id, long created, String model, String piece, String finishReason) {
        ObjectNode chunk = header(id, created, model);
        ObjectNode choice = chunk.putArray("choices").addObject();
        choice.put("text", piece);
        choice.put("index", 0);
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason);
        return chunk;
    }

    /** The stream's closing chunk: no choices, only usage. */
    static ObjectNode usageChunk(String id, long created, String model, Usage usage) {
        ObjectNode chunk = header(id, created, model);
        chunk.putArray("choices");
        chunk.set("usage", usage.toJson());
        return chunk;
    }

    private static ObjectNode header(String id, long created, String model) {
        ObjectNode object = Json.object();
        object.put("id", id);
        object.put("object", "text_completion");
        object.put("created", created);
        object.put("model", model);
        return object;
    }
}
