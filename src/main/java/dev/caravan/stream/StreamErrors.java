package dev.caravan.stream;

import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;

/**
 * A failure after a stream's headers went out: the client gets one error event in the stream's own framing
 * and no [DONE], so no client mistakes a cut stream for a clean end.
 */
public final class StreamErrors {

    private StreamErrors() {
    }

    public static void writeAndEnd(HttpServerResponse response, OpenAiError error) {
        if (response.ended() || response.closed()) {
            return;
        }
        String contentType = response.headers().get(HttpHeaders.CONTENT_TYPE);
        String json = Json.string(error.toJson());
        if (contentType != null && contentType.startsWith("text/event-stream")) {
            response.end("data: " + json + "\n\n");
        } else {
            response.end(json + "\n");
        }
    }
}
