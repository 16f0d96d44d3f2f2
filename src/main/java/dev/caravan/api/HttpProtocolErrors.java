package dev.caravan.api;

import dev.caravan.openai.OpenAiError;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * The server's answer to a request Netty could not parse (Vert.x's invalidRequestHandler): a request line over the
 * limit is 414, headers over the limit 431, anything else malformed 400; as OpenAI error JSON instead of an
 * empty status page, and the connection is closed (what follows on it cannot be trusted).
 */
final class HttpProtocolErrors {

    private HttpProtocolErrors() {
    }

    static void answer(HttpServerRequest request) {
        DecoderResult result = request.decoderResult();
        Throwable cause = result == null ? null : result.cause();
        String text = cause == null || cause.getMessage() == null ? "" : cause.getMessage();
        OpenAiError error;
        if (cause instanceof TooLongFrameException && text.startsWith("An HTTP line is larger than")) {
            error = new OpenAiError(414, "invalid_request_error", "uri_too_long", null,
                    "The request line (method and URL) is longer than this gateway accepts");
        } else if (cause instanceof TooLongFrameException && text.startsWith("HTTP header is larger than")) {
            error = new OpenAiError(431, "invalid_request_error", "headers_too_large", null,
                    "The request headers are larger than this gateway accepts");
        } else {
            error = OpenAiError.invalidRequest(null, "The request is not valid HTTP/1.1");
        }
        answer(request, error);
    }

    /**
     * Whether a request target holds a '%' not followed by two hex digits. Vert.x Web fails such a path before any
     * route (and its error page) is reached; checked here, on the raw URI, only when it holds a '%' at all.
     */
    static boolean badEscape(String uri) {
        for (int i = uri.indexOf('%'); i >= 0; i = uri.indexOf('%', i + 1)) {
            if (i + 2 >= uri.length() || Character.digit(uri.charAt(i + 1), 16) < 0
                    || Character.digit(uri.charAt(i + 2), 16) < 0) {
                return true;
            }
        }
        return false;
    }

    /** Replies with the error and closes the connection once the reply is out. */
    static void answer(HttpServerRequest request, OpenAiError error) {
        HttpServerResponse response = request.response();
        HttpConnection connection = request.connection();
        if (response.ended() || response.headWritten()) {
            connection.close();
            return;
        }
        response.putHeader(HttpHeaders.CONNECTION, "close");
        response.endHandler(v -> connection.close());
        ReplyWriter.writeError(response, error, null);
    }
}
