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
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.Operation;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.streams.ReadStream;

/**
 * Ollama's native API (/api/chat, /api/embed, /api/tags), not its OpenAI layer: the native API is the one every
 * Ollama version has, and it reports exact token counts (prompt_eval_count, eval_count) on streams too.
 * The client's OpenAI request is translated (messages, sampling options, tools, response_format) and the reply
 * is translated back, tool calls included: Ollama carries arguments as a JSON object, OpenAI as a JSON string.
 * /v1/completions is not served natively: the gateway turns it into chat before it gets here.
 * <p>
 * The translations live in {@link dev.caravan.backend.ollama}; this class does the HTTP: calls, streams with
 * back-pressure, and cancellation.
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
                        .recover(e -> Future.failedFuture(failure(call, e)))
                        .map(reply -> Embeddings.reply(call, reply, base64));
            }
            return UpstreamHttp.postForJson(client(call), call, "/api/chat", ChatBody.of(call, false),
                    upstreams.maxReplyBytes())
                    .recover(e -> Future.failedFuture(failure(call, e)))
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
            return Future.failedFuture(e);
        }
        Promise<Void> done = Promise.promise();
        UpstreamHttp.post(client(call), call, "/api/chat", body, NDJSON)
                .onFailure(e -> done.tryFail(failure(call, e)))
                .onSuccess(response -> relay(call, sink, response, done));
        return done.future();
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

    /** Reads the NDJSON lines as they come and pushes OpenAI chunks; runs on the upstream connection's event loop. */
    private static void relay(UpstreamCall call, ChunkSink sink, HttpClientResponse response, Promise<Void> done) {
        try {
            sink.open();
            ChatStream state = new ChatStream(call, sink);
            state.start(); // the role chunk goes out before any line is read
            @SuppressWarnings("unchecked")
            ReadStream<Buffer>[] lines = new ReadStream[1];
            lines[0] = NdjsonLines.parse(response, line -> {
                if (done.future().isComplete()) {
                    return;
                }
                try {
                    state.onLine(line);
                } catch (RuntimeException e) {
                    abort(call, response, done, e);
                    return;
                }
                if (!sink.writable()) {
                    lines[0].pause(); // the client is slow: stop reading, TCP tells Ollama to wait
                    sink.whenWritable(lines[0]::resume);
                }
            });
            lines[0].exceptionHandler(e -> abort(call, response, done, e)); // reset: a broken read must free the slot too
            lines[0].endHandler(v -> {
                if (state.finished()) {
                    done.tryComplete();
                } else {
                    done.tryFail(UpstreamErrors.CUT); // a cut stream is never a clean end
                }
            });
        } catch (RuntimeException e) {
            abort(call, response, done, e);
        }
    }

    private static void abort(UpstreamCall call, HttpClientResponse response, Promise<Void> done, Throwable e) {
        OpenAiError error = failure(call, e);
        done.tryFail(error);
        response.request().reset(0, error); // nothing more of this stream is wanted; a reset does not drain it
    }

    /** Why a call failed: the cancellation's own reason (deadline: 504) beats the bare reset it caused. */
    private static OpenAiError failure(UpstreamCall call, Throwable e) {
        Throwable reason = call.cancellation().reason();
        return UpstreamErrors.ofFailure(reason != null ? reason : e);
    }
}
