package dev.caravan.backend;

import java.util.function.Consumer;

import dev.caravan.openai.ChunkSink;
import dev.caravan.openai.OpenAiError;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.streams.ReadStream;

/**
 * The upstream side of every streamed reply, one implementation for all protocols: once the upstream accepted the
 * call, opens the client's stream, frames the bytes into events (SSE or NDJSON) as they arrive, hands each to the
 * protocol's {@link StreamDecoder}, pauses reading while the client's socket is backed up (TCP then tells the
 * upstream to wait) and resumes when it drains. It ends the stream as the protocol says: cleanly after its end
 * marker, as a cut ({@link UpstreamErrors#CUT}) when the bytes stop without it, failed on an error event or a broken
 * read. On any failure, or the request's cancellation (client gone, deadline passed), the upstream request is reset,
 * never closed: a close would read the rest of a generation nobody wants, holding the GPU slot meanwhile.
 * <p>
 * Runs on the event loop of the upstream connection; nothing here blocks.
 */
final class StreamPump {

    /** How a protocol frames its events on the wire. */
    interface Framing<E> {
        /** The events of {@code body} to {@code onEvent}; the returned stream is what to pause and resume. */
        ReadStream<Buffer> parse(ReadStream<Buffer> body, Consumer<E> onEvent);
    }

    /** Server-sent events (OpenAI, TGI): each event's data, multi-line data joined. */
    static final Framing<String> SSE = SseEvents::parse;
    /** Newline-delimited JSON (Ollama): each non-blank line, as bytes. */
    static final Framing<Buffer> NDJSON = NdjsonLines::parse;

    private StreamPump() {
    }

    /**
     * Pumps the reply of {@code response} (the upstream's answer to the call, 2xx once it succeeds) into the
     * decoder, which writes to {@code sink}. Succeeds when the upstream ended cleanly; fails with an OpenAiError
     * when it refused the call, broke off, sent an error, or the call was cancelled.
     */
    static <E> Future<Void> pump(UpstreamCall call, Future<HttpClientResponse> response, ChunkSink sink,
                                 Framing<E> framing, StreamDecoder<E> decoder) {
        Promise<Void> done = Promise.promise();
        response.onFailure(e -> done.tryFail(call.failure(e)))
                .onSuccess(upstream -> new Run<>(call, upstream, sink, decoder, done).start(framing));
        return done.future();
    }

    /** One stream being pumped. */
    private static final class Run<E> {
        private final UpstreamCall call;
        private final HttpClientResponse upstream;
        private final ChunkSink sink;
        private final StreamDecoder<E> decoder;
        private final Promise<Void> done;
        private final Runnable resume;
        private ReadStream<Buffer> events;

        Run(UpstreamCall call, HttpClientResponse upstream, ChunkSink sink, StreamDecoder<E> decoder,
            Promise<Void> done) {
            this.call = call;
            this.upstream = upstream;
            this.sink = sink;
            this.decoder = decoder;
            this.done = done;
            this.resume = () -> events.resume();
        }

        void start(Framing<E> framing) {
            try {
                sink.open();
                decoder.start();
                events = framing.parse(upstream, this::onEvent);
                events.exceptionHandler(this::abort); // a broken read must free the slot too
                events.endHandler(v -> {
                    if (decoder.finished()) {
                        done.tryComplete();
                    } else {
                        done.tryFail(UpstreamErrors.CUT); // a cut stream is never a clean end
                    }
                });
            } catch (RuntimeException e) {
                abort(e);
            }
        }

        private void onEvent(E event) {
            if (done.future().isComplete()) {
                return;
            }
            try {
                decoder.onEvent(event);
            } catch (RuntimeException e) {
                abort(e);
                return;
            }
            if (decoder.stoppedEarly()) {
                done.tryComplete(); // the reply is complete: the rest is not wanted
                upstream.request().reset(0);
                return;
            }
            if (!sink.writable()) {
                events.pause(); // the client is slow: stop reading, TCP tells the upstream to wait
                sink.whenWritable(resume);
            }
        }

        private void abort(Throwable e) {
            OpenAiError error = call.failure(e);
            done.tryFail(error);
            upstream.request().reset(0, error); // a reset, unlike a close, does not drain the rest
        }
    }
}
