package dev.caravan.backend;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;

/**
 * Reads an upstream reply body into memory with a ceiling: one huge reply (a misbehaving or hostile upstream)
 * must not take the gateway's heap. Past the ceiling the upstream connection is reset, so nothing more is read.
 */
final class UpstreamBodies {

    /** How much of an upstream error body is kept: its message is what a client needs, never megabytes. */
    static final int ERROR_BODY_BYTES = 64 * 1024;

    private UpstreamBodies() {
    }

    /** The whole body; fails with 502 upstream_reply_too_large when it is longer than {@code max} bytes. */
    static Future<Buffer> read(HttpClientResponse response, long max) {
        return read(response, max, false);
    }

    /** At most the first {@code max} bytes of the body (an error reply); the rest is not read. */
    static Future<Buffer> prefix(HttpClientResponse response, int max) {
        return read(response, max, true);
    }

    private static Future<Buffer> read(HttpClientResponse response, long max, boolean truncate) {
        long announced = contentLength(response);
        if (announced > max && !truncate) {
            response.request().reset(0, UpstreamErrors.tooLarge(max));
            return Future.failedFuture(UpstreamErrors.tooLarge(max));
        }
        Promise<Buffer> promise = Promise.promise();
        Buffer body = Buffer.buffer((int) Math.min(Math.max(announced, 256), Math.min(max, 1 << 20)));
        response.handler(chunk -> {
            if (promise.future().isComplete()) {
                return;
            }
            if (body.length() + chunk.length() > max) {
                if (truncate) {
                    body.appendBuffer(chunk, 0, (int) (max - body.length()));
                    promise.tryComplete(body);
                } else {
                    promise.tryFail(UpstreamErrors.tooLarge(max));
                }
                response.request().reset(0, UpstreamErrors.tooLarge(max)); // stop reading; the connection goes
                return;
            }
            body.appendBuffer(chunk);
        });
        response.exceptionHandler(promise::tryFail);
        response.endHandler(v -> promise.tryComplete(body));
        return promise.future();
    }

    private static long contentLength(HttpClientResponse response) {
        String length = response.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length == null) {
            return -1;
        }
        try {
            return Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
