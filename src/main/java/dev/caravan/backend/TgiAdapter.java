package dev.caravan.backend;

import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.backend.tgi.GenerateBody;
import dev.caravan.backend.tgi.GenerateReply;
import dev.caravan.backend.tgi.Prompt;
import dev.caravan.backend.tgi.TokenStream;
import dev.caravan.config.BackendConfig;
import dev.caravan.openai.ChunkSink;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpHeaders;

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
 * The translations live in {@link dev.caravan.backend.tgi}; this class makes the calls, and a stream's reading,
 * back-pressure, early end and cancellation are the {@link StreamPump}'s.
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
                .recover(e -> Future.failedFuture(call.failure(e)));
    }

    @Override
    public Future<Void> stream(UpstreamCall call, ChunkSink sink) {
        Prompt prompt;
        try {
            prompt = Prompt.of(call);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
        return StreamPump.pump(call, UpstreamHttp.post(client(call), call, "/generate_stream",
                GenerateBody.of(call, prompt), EVENT_STREAM), sink, StreamPump.SSE, new TokenStream(call, prompt, sink));
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
}
