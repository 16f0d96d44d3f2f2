package dev.caravan.backend;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.config.BackendConfig;
import dev.caravan.openai.ChunkSink;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.Operation;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;

/**
 * Any OpenAI-compatible server (vLLM, llama.cpp server, LM Studio, OpenAI, OpenRouter). The client's request
 * goes upstream as sent (tools, response_format, seed and every unknown field untouched) with two changes:
 * the upstream's model name, and a request for usage on streams so that usage is always right.
 */
public final class OpenAiAdapter implements BackendAdapter {

    private static final CharSequence EVENT_STREAM = HttpHeaders.createOptimized("text/event-stream");

    private final Upstreams upstreams;

    public OpenAiAdapter(Upstreams upstreams) {
        this.upstreams = upstreams;
    }

    @Override
    public boolean servesLegacyCompletions() {
        return true;
    }

    @Override
    public Future<ObjectNode> call(UpstreamCall call) {
        ObjectNode body = upstreamBody(call, false);
        return UpstreamHttp.postForJson(upstreams.client(call), call,
                path(call), body, upstreams.maxReplyBytes()).map(reply -> {
                    if (!(reply instanceof ObjectNode object)) {
                        throw OpenAiError.upstream("The upstream answered with JSON that is not an object", null);
                    }
                    if (call.operation() != Operation.EMBEDDINGS) {
                        object.put("model", call.route().model());
                    }
                    return object;
                });
    }

    @Override
    public Future<Void> stream(UpstreamCall call, ChunkSink sink) {
        return StreamPump.pump(call, UpstreamHttp.post(upstreams.client(call), call, path(call),
                upstreamBody(call, true), EVENT_STREAM), sink, StreamPump.SSE, new ChunkEvents(sink));
    }

    @Override
    public Future<List<String>> listModels(String backendName, BackendConfig backend) {
        return UpstreamHttp.getJson(upstreams.client(backendName, backend), base(backend.url()), "/v1/models",
                backend.apiKey(), upstreams.maxReplyBytes()).map(json -> {
                    List<String> ids = new ArrayList<>();
                    for (JsonNode model : json.path("data")) {
                        if (model.hasNonNull("id")) {
                            ids.add(model.get("id").asText());
                        }
                    }
                    return ids;
                });
    }

    private static ObjectNode upstreamBody(UpstreamCall call, boolean stream) {
        ObjectNode body = call.request().deepCopy();
        body.put("model", call.upstreamModel());
        if (call.operation() == Operation.EMBEDDINGS) {
            return body;
        }
        body.put("stream", stream);
        if (stream) {
            body.putObject("stream_options").put("include_usage", true);
        } else {
            body.remove("stream_options");
        }
        return body;
    }

    private static String path(UpstreamCall call) {
        String suffix = switch (call.operation()) {
            case CHAT -> "/v1/chat/completions";
            case COMPLETION -> "/v1/completions";
            case EMBEDDINGS -> "/v1/embeddings";
        };
        String url = call.backend().url();
        // "url" is the part before /v1 (DESIGN §3a), but operators often paste it with /v1: accept both
        return url.endsWith("/v1") || url.endsWith("/v1/") ? suffix.substring(3) : suffix;
    }

    private static String base(String url) {
        if (url.endsWith("/")) {
            url = url.substring(0, url.length() - 1);
        }
        return url.endsWith("/v1") ? url.substring(0, url.length() - 3) : url;
    }

    /** An OpenAI stream's events are OpenAI chunks already: checked, passed on, its end marker watched for. */
    private static final class ChunkEvents implements StreamDecoder<String> {
        private final ChunkSink sink;
        private boolean done;
        private boolean sawFinish;

        ChunkEvents(ChunkSink sink) {
            this.sink = sink;
        }

        @Override
        public void onEvent(String data) {
            if (done) {
                return; // nothing after [DONE] counts
            }
            if ("[DONE]".equals(data)) {
                done = true;
                return;
            }
            ObjectNode chunk = parseChunk(data);
            if (chunk.has("error")) {
                throw UpstreamErrors.ofStatus(502, Buffer.buffer(data));
            }
            sawFinish |= hasFinishReason(chunk);
            sink.accept(chunk);
        }

        /** [DONE], or a finish_reason (servers that end without [DONE] still finished their answer). */
        @Override
        public boolean finished() {
            return done || sawFinish;
        }
    }

    private static ObjectNode parseChunk(String data) {
        try {
            JsonNode node = Json.MAPPER.readTree(data);
            if (node instanceof ObjectNode object) {
                return object;
            }
        } catch (java.io.IOException e) {
            throw OpenAiError.upstream("The upstream sent an event that is not JSON", e);
        }
        throw OpenAiError.upstream("The upstream sent an event that is not a JSON object", null);
    }

    private static boolean hasFinishReason(ObjectNode chunk) {
        for (JsonNode choice : chunk.path("choices")) {
            if (choice.hasNonNull("finish_reason")) {
                return true;
            }
        }
        return false;
    }
}
