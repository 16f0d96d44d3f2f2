package dev.caravan.openai;

import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * /v1/completions for upstreams that only chat (Ollama, TGI's chat path, local): the prompt becomes one user
 * message, and chat replies become text_completion objects and chunks again.
 */
public final class LegacyCompletions {

    private static final List<String> PASSED_ON = List.of("max_tokens", "temperature", "top_p", "stop", "seed",
            "presence_penalty", "frequency_penalty", "n", "user", "stream", "stream_options", "logit_bias");

    private LegacyCompletions() {
    }

    public static ObjectNode toChatRequest(ObjectNode completionRequest) {
        ObjectNode chat = Json.object();
        chat.set("model", completionRequest.get("model"));
        chat.putArray("messages").addObject()
                .put("role", "user")
                .put("content", PromptTokens.text(completionRequest.get("prompt")));
        for (String field : PASSED_ON) {
            if (completionRequest.has(field)) {
                chat.set(field, completionRequest.get(field));
            }
        }
        return chat;
    }

    public static ObjectNode toTextCompletion(ObjectNode chatCompletion) {
        ObjectNode text = Json.object();
        text.put("id", chatCompletion.path("id").asText().replace("chatcmpl-", "cmpl-"));
        text.put("object", "text_completion");
        text.set("created", chatCompletion.get("created"));
        text.set("model", chatCompletion.get("model"));
        ObjectNode choice = text.putArray("choices").addObject();
        JsonNode chatChoice = chatCompletion.path("choices").path(0);
        choice.put("text", PromptTokens.text(chatChoice.path("message").get("content")));
        choice.put("index", 0);
        choice.putNull("logprobs");
        choice.set("finish_reason", chatChoice.get("finish_reason"));
        if (chatCompletion.has("usage")) {
            text.set("usage", chatCompletion.get("usage"));
        }
        return text;
    }

    /** Converts chat chunks to text_completion chunks on their way to the client. */
    public static ChunkSink textChunks(ChunkSink target) {
        return new ChunkSink() {
            @Override
            public void open() {
                target.open();
            }

            @Override
            public void accept(ObjectNode chunk) {
                chunk.put("object", "text_completion");
                chunk.put("id", chunk.path("id").asText().replace("chatcmpl-", "cmpl-"));
                JsonNode choices = chunk.get("choices");
                if (choices != null && !choices.isEmpty()) {
                    ObjectNode choice = (ObjectNode) choices.get(0);
                    JsonNode delta = choice.remove("delta");
                    if (delta != null && delta.has("role") && PromptTokens.text(delta.get("content")).isEmpty()
                            && !choice.hasNonNull("finish_reason")) {
                        return; // the role-only opening chunk has no text_completion counterpart
                    }
                    choice.put("text", delta == null ? "" : PromptTokens.text(delta.get("content")));
                }
                target.accept(chunk);
            }

            @Override
            public boolean writable() {
                return target.writable();
            }

            @Override
            public void whenWritable(Runnable resume) {
                target.whenWritable(resume);
            }
        };
    }
}
