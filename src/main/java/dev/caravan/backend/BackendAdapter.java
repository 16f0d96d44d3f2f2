package dev.caravan.backend;

import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.config.BackendConfig;
import dev.caravan.openai.ChunkSink;
import io.vertx.core.Future;

/**
 * Speaks one upstream protocol. Takes OpenAI-shaped requests and gives OpenAI-shaped replies, whatever the
 * upstream's own format; never blocks the calling event loop.
 */
public interface BackendAdapter {

    /** Non-streaming: a chat.completion, text_completion or embeddings list, by {@link UpstreamCall#operation()}. */
    Future<ObjectNode> call(UpstreamCall call);

    /**
     * Streaming: pushes chunks into {@code sink} as they arrive. Succeeds when the upstream ended cleanly; fails
     * (with an OpenAiError) when it refused the call, broke off, or was aborted.
     */
    Future<Void> stream(UpstreamCall call, ChunkSink sink);

    /** Model names the upstream lists (Ollama /api/tags, OpenAI /v1/models), for /v1/models. */
    Future<List<String>> listModels(String backendName, BackendConfig backend);

    /** Whether the adapter serves /v1/completions natively; if not, the gateway translates it to chat. */
    default boolean servesLegacyCompletions() {
        return false;
    }
}
