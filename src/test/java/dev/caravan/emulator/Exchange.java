package dev.caravan.emulator;

import java.util.List;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * One request's life: delayed or streamed answer, timers, and the exactly-once in-flight accounting.
 * Everything here runs on the event loop of the server that accepted the connection (the request handler,
 * the timers it sets and the close handler all share that context), so plain fields need no locking.
 */
final class Exchange {

    /** A piece of a streamed body; token frames are the ones paced by tokenDelayMs and counted for cutAfterTokens. */
    record Frame(Buffer data, boolean token) {
        static Frame token(String s) {
            return new Frame(Buffer.buffer(s), true);
        }

        static Frame meta(String s) {
            return new Frame(Buffer.buffer(s), false);
        }

        static Frame meta(Buffer b) {
            return new Frame(b, false);
        }
    }

    static final CharSequence JSON = HttpHeaders.createOptimized("application/json");
    static final CharSequence JSON_UTF8 = HttpHeaders.createOptimized("application/json; charset=utf-8");
    static final CharSequence SSE = HttpHeaders.createOptimized("text/event-stream");
    static final CharSequence NDJSON = HttpHeaders.createOptimized("application/x-ndjson");
    static final CharSequence TEXT = HttpHeaders.createOptimized("text/plain; charset=utf-8");

    final UpstreamEmulator emulator;
    final HttpServerRequest request;
    final HttpServerResponse response;
    final long createdSeconds = System.currentTimeMillis() / 1000;

    // knobs are read once per request so a test changing them mid-stream does not tear a response
    final Tokens.Reply reply;
    final long firstTokenDelayMs;
    final long tokenDelayMs;
    final int cutAfterTokens;
    final boolean omitUsage;

    private final Vertx vertx;
    private long timerId = -1;
    private boolean finished;           // in-flight already released (ended, cut or closed)
    private List<Frame> frames;
    private int next;                   // index of the next frame to write
    private int tokensWritten;
    private boolean paced;              // the delay before frames[next] has already been waited

    Exchange(UpstreamEmulator emulator, Vertx vertx, HttpServerRequest request) {
        this.emulator = emulator;
        this.vertx = vertx;
        this.request = request;
        this.response = request.response();
        this.reply = emulator.currentReply();
        this.firstTokenDelayMs = emulator.firstTokenDelayMs();
        this.tokenDelayMs = emulator.tokenDelayMs();
        this.cutAfterTokens = emulator.cutAfterTokens();
        this.omitUsage = emulator.omitUsage();
    }

    /** How long a non-streamed answer of n tokens takes: the same wall time as its stream would. */
    long nonStreamDelay(int tokens) {
        return firstTokenDelayMs + Math.max(0, tokens - 1) * tokenDelayMs;
    }

    void respond(int status, CharSequence contentType, String body, long delayMs) {
        respond(status, contentType, Buffer.buffer(body), delayMs);
    }

    void respond(int status, CharSequence contentType, Buffer body, long delayMs) {
        if (finished) return;
        if (delayMs > 0) {
            timerId = vertx.setTimer(delayMs, id -> {
                timerId = -1;
                respond(status, contentType, body, 0);
            });
            return;
        }
        response.setStatusCode(status);
        if (contentType != null) response.putHeader(HttpHeaders.CONTENT_TYPE, contentType);
        // out of flight before the last bytes leave: a client on another core may read them and send its next
        // request to another of our event loops before a count taken after end() would run
        finish();
        response.end(body);
    }

    /** Streams frames: headers and frames up to the first token after firstTokenDelayMs, then tokenDelayMs per token. */
    void stream(CharSequence contentType, List<Frame> frames) {
        if (finished) return;
        this.frames = frames;
        response.setChunked(true);
        response.putHeader(HttpHeaders.CONTENT_TYPE, contentType);
        response.putHeader(HttpHeaders.CACHE_CONTROL, "no-cache");
        if (firstTokenDelayMs > 0) schedule(firstTokenDelayMs);
        else pump();
    }

    private void schedule(long delayMs) {
        timerId = vertx.setTimer(delayMs, id -> {
            timerId = -1;
            paced = true;
            pump();
        });
    }

    private void pump() {
        if (finished) return;   // the client left while a timer was pending
        while (next < frames.size()) {
            Frame f = frames.get(next);
            if (f.token()) {
                if (tokensWritten == cutAfterTokens) {      // only reachable for cutAfterTokens == 0
                    cut();
                    return;
                }
                if (tokensWritten > 0 && tokenDelayMs > 0 && !paced) {
                    schedule(tokenDelayMs);
                    return;
                }
            }
            paced = false;
            // each frame its own write (its own HTTP chunk), like a server flushing per token
            response.write(f.data());
            next++;
            if (f.token() && ++tokensWritten == cutAfterTokens) {
                cut();
                return;
            }
        }
        finish(); // before end(), for the same reason as in respond()
        response.end();
    }

    /** cutAfterTokens: drop the TCP connection without the terminating chunk, as a crashing upstream would. */
    private void cut() {
        finish();   // the emulator closes, so this is not a client abort
        if (!response.headWritten()) response.writeHead();
        request.connection().close();
    }

    /** The connection closed before the response ended: the client went away (or the emulator cut it). */
    void onConnectionClosed() {
        if (timerId != -1) {
            vertx.cancelTimer(timerId);
            timerId = -1;
        }
        if (finish()) emulator.clientAborted();
    }

    private boolean finish() {
        if (finished) return false;
        finished = true;
        emulator.requestFinished();
        return true;
    }
}
