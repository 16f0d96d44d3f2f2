package dev.caravan.backend;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.backend.ollama.ChatBody;
import dev.caravan.backend.ollama.ChatReply;
import dev.caravan.backend.ollama.ChatStream;
import dev.caravan.backend.ollama.Embeddings;
import dev.caravan.config.BackendConfig;
import dev.caravan.openai.ChunkSink;
import dev.caravan.openai.Operation;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpHeaders;

/**
 * Ollama's native API (/api/chat, /api/embed, /api/tags), not its OpenAI layer: the native API is the one every
 * Ollama version has, and it reports exact token counts (prompt_eval_count, eval_count) on streams too.
 * The client's OpenAI request is translated (messages, sampling options, tools, response_format) and the reply
 * is translated back, tool calls included: Ollama carries arguments as a JSON object, OpenAI as a JSON string.
 * /v1/completions is not served natively: the gateway turns it into chat before it gets here.
 * <p>
 * The translations live in {@link dev.caravan.backend.ollama}; this class makes the calls, and a stream's reading,
 * back-pressure and cancellation are the {@link StreamPump}'s.
 */
public final class OllamaAdapter implements BackendAdapter {

    private static final CharSequence NDJSON = HttpHeaders.createOptimized("application/x-ndjson");

    private final Upstreams upstreams;

    public OllamaAdapter(Upstreams upstreams) {
        this.upstreams = upstreams;
    }

    @Override
    public Future<ObjectNode> call(UpstreamCall call) {
        try {
            if (call.operation() == Operation.EMBEDDINGS) {
                boolean base64 = "base64".equals(call.request().path("encoding_format").asText());
                return UpstreamHttp.postForJson(client(call), call, "/api/embed", Embeddings.body(call),
                        upstreams.maxReplyBytes())
                        .recover(e -> Future.failedFuture(call.failure(e)))
                        .map(reply -> Embeddings.reply(call, reply, base64));
            }
            return UpstreamHttp.postForJson(client(call), call, "/api/chat", ChatBody.of(call, false),
                    upstreams.maxReplyBytes())
                    .recover(e -> Future.failedFuture(call.failure(e)))
                    .map(reply -> ChatReply.completion(call, reply));
        } catch (RuntimeException e) {
            return Future.failedFuture(e); // a request Ollama cannot take (400): no upstream call made
        }
    }

    @Override
    public Future<Void> stream(UpstreamCall call, ChunkSink sink) {
        ObjectNode body;
        try {
            body = ChatBody.of(call, true);
        } catch (RuntimeException e) {
            return Future.failedFuture(e); // a request Ollama cannot take (400): no upstream call made
        }
        return StreamPump.pump(call, UpstreamHttp.post(client(call), call, "/api/chat", body, NDJSON), sink,
                StreamPump.NDJSON, new ChatStream(call, sink));
    }

    @Override
    public Future<List<String>> listModels(String backendName, BackendConfig backend) {
        return UpstreamHttp.getJson(upstreams.client(backendName, backend), backend.url(), "/api/tags",
                backend.apiKey(), upstreams.maxReplyBytes()).map(json -> {
                    List<String> names = new ArrayList<>();
                    for (JsonNode model : json.path("models")) {
                        if (model.hasNonNull("name")) {
                            names.add(model.get("name").asText());
                        }
                    }
                    return names;
                });
    }

    private HttpClient client(UpstreamCall call) {
        return upstreams.client(call);
    }
}
