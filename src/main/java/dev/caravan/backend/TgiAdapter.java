package dev.caravan.backend;

import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.backend.tgi.GenerateBody;
import dev.caravan.backend.tgi.GenerateReply;
import dev.caravan.backend.tgi.Prompt;
import dev.caravan.backend.tgi.TokenStream;
import dev.caravan.config.BackendConfig;
import dev.caravan.openai.ChunkSink;
import dev.caravan.openai.OpenAiError;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.streams.ReadStream;

/**
 * Hugging Face text-generation-inference, native API (/generate, /generate_stream, /info): it takes a prompt,
 * not messages, so chat goes through {@link ChatTemplate}, and /v1/completions is served as it is (the prompt
 * is the input). TGI always reports generated tokens; prompt tokens come from its x-prompt-tokens header or
 * its stream details' input_length, and are estimated only when neither is there.
 * <p>
 * Stop sequences are applied here as well as upstream: TGI keeps the text of the token that completed a stop
 * in its output (the gateway cuts it, holding back a streamed piece that might start one), and it takes at most
 * four stops (the gateway sends the first four and watches for the rest itself, ending the stream and freeing
 * the GPU when one of those appears).
 * <p>
 * The translations live in {@link dev.caravan.backend.tgi}; this class does the HTTP: calls, streams with
 * back-pressure, early ends, and cancellation.
 */
public final class TgiAdapter implements BackendAdapter {

    private static final CharSequence EVENT_STREAM = HttpHeaders.createOptimized("text/event-stream");
    private static final CharSequence JSON = HttpHeaders.createOptimized("application/json");

    private final Upstreams upstreams;

    public TgiAdapter(Upstreams upstreams) {
        this.upstreams = upstreams;
    }

    @Override
    public boolean servesLegacyCompletions() {
        return true;
    }

    @Override
    public Future<ObjectNode> call(UpstreamCall call) {
        Prompt prompt;
        try {
            prompt = Prompt.of(call);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
        return UpstreamHttp.post(client(call), call, "/generate", GenerateBody.of(call, prompt), JSON)
                .compose(response -> UpstreamBodies.read(response, upstreams.maxReplyBytes())
                        .map(body -> GenerateReply.of(call, prompt,
                                response.getHeader("x-prompt-tokens"), body))) // TGI's router sets it on /generate
                .recover(e -> Future.failedFuture(failure(call, e)));
    }

    @Override
    public Future<Void> stream(UpstreamCall call, ChunkSink sink) {
        Prompt prompt;
        try {
            prompt = Prompt.of(call);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
        Promise<Void> done = Promise.promise();
        UpstreamHttp.post(client(call), call, "/generate_stream", GenerateBody.of(call, prompt), EVENT_STREAM)
                .onFailure(e -> done.tryFail(failure(call, e)))
                .onSuccess(response -> relay(call, prompt, sink, response, done));
        return done.future();
    }

    @Override
    public Future<List<String>> listModels(String backendName, BackendConfig backend) {
        // a TGI server serves exactly one model
        return UpstreamHttp.getJson(upstreams.client(backendName, backend), backend.url(), "/info", backend.apiKey(),
                upstreams.maxReplyBytes())
                .map(info -> info.hasNonNull("model_id") ? List.of(info.get("model_id").asText()) : List.<String>of());
    }

    private HttpClient client(UpstreamCall call) {
        return upstreams.client(call);
    }

    private static void relay(UpstreamCall call, Prompt prompt, ChunkSink sink, HttpClientResponse response,
                              Promise<Void> done) {
        try {
            sink.open();
            TokenStream state = new TokenStream(call, prompt, sink);
            state.start();
            @SuppressWarnings("unchecked")
            ReadStream<Buffer>[] events = new ReadStream[1];
            events[0] = SseEvents.parse(response, data -> {
                if (done.future().isComplete()) {
                    return;
                }
                try {
                    state.onEvent(data);
                } catch (RuntimeException e) {
                    abort(call, response, done, e);
                    return;
                }
                if (state.stoppedEarly()) {
                    // a stop TGI was not told about appeared: the reply is complete, the rest is not wanted
                    done.tryComplete();
                    response.request().reset(0);
                    return;
                }
                if (!sink.writable()) {
                    events[0].pause(); // the client is slow: stop reading, TCP tells TGI to wait
                    sink.whenWritable(events[0]::resume);
                }
            });
            events[0].exceptionHandler(e -> abort(call, response, done, e)); // reset: a broken read must free the slot too
            events[0].endHandler(v -> {
                if (state.finished()) {
                    done.tryComplete();
                } else {
                    done.tryFail(UpstreamErrors.CUT); // TGI sends no [DONE]: only the final event marks a clean end
                }
            });
        } catch (RuntimeException e) {
            abort(call, response, done, e);
        }
    }

    private static void abort(UpstreamCall call, HttpClientResponse response, Promise<Void> done, Throwable e) {
        OpenAiError error = failure(call, e);
        done.tryFail(error);
        response.request().reset(0, error); // a reset, unlike a close, does not drain the rest
    }

    /** Why a call failed: the cancellation's own reason (deadline: 504) beats the bare reset it caused. */
    private static OpenAiError failure(UpstreamCall call, Throwable e) {
        Throwable reason = call.cancellation().reason();
        return UpstreamErrors.ofFailure(reason != null ? reason : e);
    }
}
