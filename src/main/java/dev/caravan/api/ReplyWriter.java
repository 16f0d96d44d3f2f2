package dev.caravan.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.exchange.DebugTrace;
import dev.caravan.exchange.ErrorMapping;
import dev.caravan.exchange.ReplyHeaders;
import dev.caravan.exchange.RequestIds;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import dev.caravan.stream.StreamErrors;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

/**
 * Writes the exchange's outcome to the client once the route completed: the body with its status and the
 * gateway's reply headers, or the OpenAI error object of a failure. A stream has already answered; then only
 * a failure that the stream did not report yet is still written (as a last error event).
 */
public final class ReplyWriter {

    private static final CharSequence JSON = HttpHeaders.createOptimized("application/json");
    private static final String HEAD = "HEAD";
    private static final CharSequence REQUEST_ID = HttpHeaders.createOptimized("x-request-id");

    private ReplyWriter() {
    }

    public static void write(HttpServerResponse response, Exchange exchange) {
        if (response.ended() || response.closed()) {
            return; // a stream that finished, or a client that left
        }
        Throwable failure = exchange.getException();
        if (failure != null) {
            OpenAiError error = ErrorMapping.toOpenAiError(failure, exchange);
            if (response.headWritten()) {
                StreamErrors.writeAndEnd(response, error);
            } else {
                writeError(response, error, exchange);
            }
            return;
        }
        if (response.headWritten()) {
            response.end(); // a stream whose writer left the end to us
            return;
        }
        Message message = exchange.getMessage();
        Integer status = message.getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
        response.setStatusCode(status == null ? 200 : status);
        addReplyHeaders(response, exchange);
        Object body = message.getBody();
        DebugTrace trace = DebugTrace.of(exchange);
        if (trace != null && body instanceof ObjectNode reply) {
            reply.set(DebugTrace.FIELD, trace.toJson(exchange)); // OpenAI's SDKs ignore a field they do not know
        }
        if (body == null) {
            response.end();
            return;
        }
        Buffer buffer = toBuffer(body);
        if (!response.headers().contains(HttpHeaders.CONTENT_TYPE)) {
            response.putHeader(HttpHeaders.CONTENT_TYPE, JSON);
        }
        if (HEAD.equals(message.getHeader(Exchange.HTTP_METHOD))) {
            // the GET's headers without its body: Vert.x drops it on HTTP/1.1 but would send it on HTTP/2. The
            // header, not the HttpMessage: a step may have replaced the message (one map lookup per reply)
            response.putHeader(HttpHeaders.CONTENT_LENGTH, Integer.toString(buffer.length())).end();
            return;
        }
        response.end(buffer);
    }

    public static void writeError(HttpServerResponse response, OpenAiError error, Exchange exchange) {
        if (response.ended() || response.closed() || response.headWritten()) {
            return;
        }
        response.setStatusCode(error.status());
        if (exchange != null) {
            addReplyHeaders(response, exchange);
        } else {
            // refused before any route ran (unknown URL, wrong method, body too large): no id was taken yet
            response.putHeader(REQUEST_ID, RequestIds.generate());
        }
        if (error.retryAfterSeconds() > 0) {
            response.putHeader(HttpHeaders.RETRY_AFTER, Long.toString(error.retryAfterSeconds()));
        }
        response.putHeader(HttpHeaders.CONTENT_TYPE, JSON);
        ObjectNode body = error.toJson();
        DebugTrace trace = exchange == null ? null : DebugTrace.of(exchange);
        if (trace != null) {
            body.set(DebugTrace.FIELD, trace.toJson(exchange));
        }
        response.end(Json.buffer(body));
    }

    /** Adds the gateway's reply headers and the time the gateway itself spent on the request. */
    public static void addReplyHeaders(HttpServerResponse response, Exchange exchange) {
        ReplyHeaders.writeTo(response, exchange);
        DebugTrace trace = DebugTrace.of(exchange);
        if (trace != null) {
            response.putHeader(DebugTrace.HEADER, trace.summary(exchange));
        }
    }

    private static Buffer toBuffer(Object body) {
        if (body instanceof Buffer buffer) {
            return buffer;
        }
        if (body instanceof JsonNode node) {
            return Json.buffer(node);
        }
        if (body instanceof byte[] bytes) {
            return Buffer.buffer(bytes);
        }
        return Buffer.buffer(body.toString());
    }
}
