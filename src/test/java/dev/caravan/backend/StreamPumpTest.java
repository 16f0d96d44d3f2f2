package dev.caravan.backend;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.config.BackendConfig;
import dev.caravan.config.ModelRoute;
import dev.caravan.exchange.Cancellation;
import dev.caravan.openai.ChunkSink;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.Operation;
import dev.caravan.support.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one stream pump, against a real upstream socket: a slow client pauses the upstream (its writes back up until
 * the client drains, then everything arrives), a stream that stops without its end marker is a cut, and an error
 * event or a cancellation resets the upstream request instead of reading the rest.
 */
class StreamPumpTest {

    private static final int FLOOD_EVENTS = 60_000;
    private static final String PAD = "x".repeat(1000);

    static Vertx vertx;
    static HttpServer server;
    static HttpClient client;
    static final AtomicInteger written = new AtomicInteger();
    static final AtomicBoolean stalled = new AtomicBoolean();
    static final AtomicLong lastWrite = new AtomicLong();
    static final AtomicBoolean upstreamReset = new AtomicBoolean();

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        server = vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
            HttpServerResponse response = request.response().setChunked(true)
                    .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream");
            response.closeHandler(v -> upstreamReset.set(true));
            switch (request.path()) {
                case "/flood" -> flood(response);
                case "/cut" -> response.write(event("1")).compose(v -> response.write(event("2"))).compose(v -> response.end());
                case "/slow-then-error" -> slow(response, 0, 3);
                default -> slow(response, 0, -1);
            }
        })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        client = vertx.createHttpClient();
    }

    @AfterAll
    static void stop() {
        vertx.close();
    }

    @BeforeEach
    void reset() {
        written.set(0);
        stalled.set(false);
        upstreamReset.set(false);
    }

    /** As many events as the socket takes, then waits for it to drain: TCP back-pressure, as a real upstream does. */
    private static void flood(HttpServerResponse response) {
        while (written.get() < FLOOD_EVENTS) {
            if (response.writeQueueFull()) {
                stalled.set(true);
                response.drainHandler(v -> {
                    stalled.set(false);
                    flood(response);
                });
                return;
            }
            response.write(event("{\"i\":" + written.getAndIncrement() + ",\"pad\":\"" + PAD + "\"}"));
            lastWrite.set(System.nanoTime());
        }
        response.end(event("[DONE]"));
    }

    /** One event every 20 ms, for ever (until the client resets it); event {@code errorAt} is an error event. */
    private static void slow(HttpServerResponse response, int n, int errorAt) {
        if (response.closed()) {
            return;
        }
        response.write(event(n == errorAt ? "boom" : String.valueOf(n)));
        vertx.setTimer(20, t -> slow(response, n + 1, errorAt));
    }

    private static String event(String data) {
        return "data: " + data + "\n\n";
    }

    @Test
    void aSlowClientPausesTheUpstreamAndEverythingArrivesOnceItDrains() throws Exception {
        Sink sink = new Sink(false);
        Events events = new Events();
        Future<Void> done = pump("/flood", new Cancellation(), sink, events);

        Await.value("the upstream's writes backed up", () -> stalled.get()
                && System.nanoTime() - lastWrite.get() > Duration.ofMillis(300).toNanos(), s -> s, Duration.ofSeconds(20));
        assertTrue(written.get() < FLOOD_EVENTS / 2, "the upstream was held back: " + written.get() + " events sent");
        assertEquals(1, events.count.get(), "no event is read while the client cannot take it");
        assertTrue(sink.opened && sink.resume != null, "the pump waits for the client to drain");

        sink.writable = true;
        vertx.runOnContext(v -> sink.resume.run());
        done.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertEquals(FLOOD_EVENTS, events.count.get(), "every event arrived, in order, after the pause");
        assertTrue(events.finished());
    }

    @Test
    void aStreamThatStopsWithoutItsEndMarkerIsACut() {
        Throwable failure = failureOf(pump("/cut", new Cancellation(), new Sink(true), new Events()));
        assertSame(UpstreamErrors.CUT, failure);
    }

    @Test
    void anErrorEventFailsTheStreamAndResetsTheUpstream() {
        Events events = new Events();
        Throwable failure = failureOf(pump("/slow-then-error", new Cancellation(), new Sink(true), events));
        assertTrue(failure instanceof OpenAiError e && e.getMessage().contains("boom"), String.valueOf(failure));
        assertEquals(4, events.count.get(), "three events, then the error one");
        Await.value("the upstream request reset", upstreamReset::get, r -> r, Duration.ofSeconds(5));
    }

    @Test
    void aCancelledStreamResetsTheUpstreamAndFailsWithTheCancellationsReason() {
        Cancellation cancellation = new Cancellation();
        Events events = new Events();
        Future<Void> done = pump("/slow", cancellation, new Sink(true), events);
        Await.value("two events", () -> events.count.get(), n -> n >= 2, Duration.ofSeconds(5));
        OpenAiError gone = OpenAiError.deadline("the deadline passed");
        cancellation.cancel(gone);
        assertSame(gone, failureOf(done), "the reason beats the reset it caused");
        Await.value("the upstream request reset", upstreamReset::get, r -> r, Duration.ofSeconds(5));
    }

    private static Future<Void> pump(String path, Cancellation cancellation, Sink sink, Events events) {
        String url = "http://127.0.0.1:" + server.actualPort();
        UpstreamCall call = new UpstreamCall(Operation.CHAT, Json.MAPPER.createObjectNode(),
                new ModelRoute("m", "b", BackendConfig.of("openai", url, null), "m", null), "req_test", cancellation);
        ObjectNode body = Json.MAPPER.createObjectNode();
        CompletableFuture<Future<Void>> started = new CompletableFuture<>();
        // as in the gateway: the call is made from an event loop, which the stream then lives on
        vertx.runOnContext(v -> started.complete(StreamPump.pump(call,
                UpstreamHttp.post(client, call, path, body, "text/event-stream"), sink, StreamPump.SSE, events)));
        return started.join();
    }

    private static Throwable failureOf(Future<Void> done) {
        try {
            done.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        throw new AssertionError("the stream ended cleanly");
    }

    /** Counts events; [DONE] ends the stream, "boom" is an error event. */
    private static final class Events implements StreamDecoder<String> {
        final AtomicInteger count = new AtomicInteger();
        volatile boolean done;

        @Override
        public void onEvent(String data) {
            if ("[DONE]".equals(data)) {
                done = true;
                return;
            }
            count.incrementAndGet();
            if (data.equals("boom")) {
                throw OpenAiError.upstream("The upstream failed mid-stream: boom", null);
            }
        }

        @Override
        public boolean finished() {
            return done;
        }
    }

    /** The client side: writable or backed up, as the test says. */
    private static final class Sink implements ChunkSink {
        volatile boolean opened;
        volatile boolean writable;
        volatile Runnable resume;

        Sink(boolean writable) {
            this.writable = writable;
        }

        @Override
        public void open() {
            opened = true;
        }

        @Override
        public void accept(ObjectNode chunk) {
        }

        @Override
        public boolean writable() {
            return writable;
        }

        @Override
        public void whenWritable(Runnable resume) {
            this.resume = resume;
        }
    }
}
