package dev.caravan.backend;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import io.vertx.core.Vertx;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SSE reader buffers one event at most, and a bounded one: an upstream that sends data lines without ever
 * ending the event fails the stream instead of filling memory. Fed from a real Vert.x file stream.
 */
class SseEventsTest {

    static Vertx vertx;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() {
        vertx.close();
    }

    @Test
    void anEventOfEndlessDataLinesFails() throws Exception {
        Outcome outcome = read("data: 0123456789\n".repeat(1000), 1024);
        assertTrue(outcome.failure.get(5, TimeUnit.SECONDS).getMessage().contains("longer than 1024"));
        assertEquals(List.of(), outcome.events);
    }

    @Test
    void wellFormedEventsPassAndALastOneWithoutABlankLineToo() throws Exception {
        Outcome outcome = read("data: {\"a\":1}\n\n: comment\ndata:{\"b\":\ndata: 2}\r\n\r\ndata: [DONE]\n", 1024);
        outcome.ended.get(5, TimeUnit.SECONDS);
        assertEquals(List.of("{\"a\":1}", "{\"b\":\n2}", "[DONE]"), outcome.events);
    }

    private static Outcome read(String content, int maxBytes) throws Exception {
        Path file = Files.createTempFile("sse", ".txt");
        Files.writeString(file, content);
        AsyncFile stream = vertx.fileSystem().openBlocking(file.toString(), new OpenOptions().setRead(true));
        Outcome outcome = new Outcome();
        vertx.runOnContext(v -> {
            var events = SseEvents.parse(stream, outcome.events::add, maxBytes);
            events.exceptionHandler(outcome.failure::complete);
            events.endHandler(end -> outcome.ended.complete(null));
        });
        outcome.ended.whenComplete((r, e) -> file.toFile().delete());
        return outcome;
    }

    private static final class Outcome {
        final List<String> events = new CopyOnWriteArrayList<>();
        final CompletableFuture<Throwable> failure = new CompletableFuture<>();
        final CompletableFuture<Void> ended = new CompletableFuture<>();
    }
}
