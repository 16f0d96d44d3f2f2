package dev.caravan.backend.tgi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.backend.UpstreamCall;
import dev.caravan.openai.Chunks;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.PromptTokens;
import dev.caravan.openai.TokenEstimate;
import dev.caravan.openai.Usage;
import io.vertx.core.buffer.Buffer;

/**
 * A /generate reply as an OpenAI chat.completion or text_completion, cut at the first stop; its finish reason
 * and usage rules serve streams too.
 */
public final class GenerateReply {

    private GenerateReply() {
    }

    /** {@code promptTokensHeader}: TGI's x-prompt-tokens, null when absent. */
    public static ObjectNode of(UpstreamCall call, Prompt prompt, String promptTokensHeader, Buffer body) {
        JsonNode json = Json.parseUpstream(body);
        if (json.hasNonNull("error")) {
            throw OpenAiError.upstream("The upstream failed: " + json.get("error").asText(), null);
        }
        StopTrimmer trimmer = new StopTrimmer(prompt.stops());
        String text = trimmer.accept(json.path("generated_text").asText(""));
        text += trimmer.flush();
        JsonNode details = json.path("details");
        Long promptTokens = promptTokensHeader == null ? null : parseLong(promptTokensHeader);
        Usage usage = usage(call, promptTokens, details.path("generated_tokens"), text);
        String finish = finishReason(details);
        String model = call.route().model();
        if (prompt.chat()) {
            return Chunks.completion(Chunks.newId("chatcmpl-"), Chunks.nowSeconds(), model, text, null, finish, usage);
        }
        return TextCompletions.completion(Chunks.newId("cmpl-"), Chunks.nowSeconds(), model, text, finish, usage);
    }

    /** TGI says length, eos_token or stop_sequence; OpenAI knows length and stop. */
    static String finishReason(JsonNode details) {
        return "length".equals(details.path("finish_reason").asText()) ? "length" : "stop";
    }

    static Usage usage(UpstreamCall call, Long promptTokens, JsonNode generatedTokens, CharSequence text) {
        boolean estimated = promptTokens == null || !generatedTokens.canConvertToLong();
        return new Usage(promptTokens != null ? promptTokens : PromptTokens.estimate(call.request()),
                generatedTokens.canConvertToLong() ? generatedTokens.asLong() : TokenEstimate.of(text), estimated);
    }

    private static Long parseLong(String text) {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
