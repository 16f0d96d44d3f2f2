package dev.caravan.openai;

import java.util.concurrent.ThreadLocalRandom;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Builds OpenAI reply objects for adapters whose upstream speaks another format (Ollama, TGI, local): the exact
 * field names and shapes of chat.completion and chat.completion.chunk.
 */
public final class Chunks {

    private Chunks() {
    }

    public static String newId(String prefix) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        // 24 hex digits, like OpenAI's ids; the top bit set keeps every id the same length
        return prefix + Long.toHexString(random.nextLong() | Long.MIN_VALUE)
                + Long.toHexString((random.nextLong() >>> 32) | 0x80000000L);
    }

    public static long nowSeconds() {
        return System.currentTimeMillis() / 1000;
    }

    /** A chat.completion.chunk with one choice whose delta is returned for the caller to fill. */
    public static ObjectNode chunk(String id, long created, String model) {
        ObjectNode chunk = Json.object();
        chunk.put("id", id);
        chunk.put("object", "chat.completion.chunk");
        chunk.put("created", created);
        chunk.put("model", model);
        ObjectNode choice = chunk.putArray("choices").addObject();
        choice.put("index", 0);
        choice.putObject("delta");
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        return chunk;
    }

    public static ObjectNode delta(ObjectNode chunk) {
        return (ObjectNode) chunk.get("choices").get(0).get("delta");
    }

    public static ObjectNode contentChunk(String id, long created, String model, String content) {
        ObjectNode chunk = chunk(id, created, model);
        delta(chunk).put("content", content);
        return chunk;
    }

    public static ObjectNode finishChunk(String id, long created, String model, String finishReason) {
        ObjectNode chunk = chunk(id, created, model);
        ((ObjectNode) chunk.get("choices").get(0)).put("finish_reason", finishReason);
        return chunk;
    }

    public static ObjectNode usageChunk(String id, long created, String model, Usage usage) {
        ObjectNode chunk = Json.object();
        chunk.put("id", id);
        chunk.put("object", "chat.completion.chunk");
        chunk.put("created", created);
        chunk.put("model", model);
        chunk.putArray("choices");
        chunk.set("usage", usage.toJson());
        return chunk;
    }

    /** A whole chat.completion; {@code content} may be null when the reply is tool calls only. */
    public static ObjectNode completion(String id, long created, String model, String content, ArrayNode toolCalls,
                                        String finishReason, Usage usage) {
        ObjectNode completion = Json.object();
        completion.put("id", id);
        completion.put("object", "chat.completion");
        completion.put("created", created);
        completion.put("model", model);
        ObjectNode choice = completion.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        message.put("content", content);
        if (toolCalls != null && !toolCalls.isEmpty()) {
            message.set("tool_calls", toolCalls);
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason);
        completion.set("usage", usage.toJson());
        return completion;
    }
}
