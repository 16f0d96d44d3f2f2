package dev.caravan.backend.ollama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.backend.UpstreamCall;
import dev.caravan.openai.Chunks;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.PromptTokens;
import dev.caravan.openai.TokenEstimate;
import dev.caravan.openai.Usage;

/** An /api/chat reply as an OpenAI chat.completion; its finish reason and usage rules serve streams too. */
public final class ChatReply {

    private ChatReply() {
    }

    public static ObjectNode completion(UpstreamCall call, JsonNode reply) {
        if (reply.hasNonNull("error")) {
            throw OpenAiError.upstream("The upstream failed: " + errorText(reply.get("error")), null);
        }
        JsonNode message = reply.path("message");
        String content = message.path("content").asText("");
        JsonNode calls = message.get("tool_calls");
        ArrayNode toolCalls = calls != null && calls.isArray() && !calls.isEmpty()
                ? ToolCalls.toOpenAi(calls, -1) : null;
        return Chunks.completion(Chunks.newId("chatcmpl-"), Chunks.nowSeconds(), call.route().model(),
                toolCalls != null && content.isEmpty() ? null : content, toolCalls,
                finishReason(reply, toolCalls != null), usage(call, reply, content));
    }

    /** "length" when num_predict cut the reply; "tool_calls" when the model called tools; "stop" otherwise. */
    static String finishReason(JsonNode last, boolean toolCalls) {
        if (toolCalls) {
            return "tool_calls";
        }
        return "length".equals(last.path("done_reason").asText()) ? "length" : "stop";
    }

    /** Ollama's own counts; it leaves prompt_eval_count out when the whole prompt came from its cache. */
    static Usage usage(UpstreamCall call, JsonNode last, CharSequence content) {
        boolean hasPrompt = last.hasNonNull("prompt_eval_count");
        boolean hasEval = last.hasNonNull("eval_count");
        return new Usage(
                hasPrompt ? last.get("prompt_eval_count").asLong() : PromptTokens.estimate(call.request()),
                hasEval ? last.get("eval_count").asLong() : TokenEstimate.of(content),
                !hasPrompt || !hasEval);
    }

    static String errorText(JsonNode error) {
        return error.isTextual() ? error.asText() : error.toString();
    }
}
