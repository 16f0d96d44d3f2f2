package dev.caravan.exchange;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import org.apache.camel.Exchange;

/** Response headers the gateway adds on the way (x-request-id, x-caravan-backend, ...), kept off Camel headers. */
public final class ReplyHeaders {

    private static final CharSequence OVERHEAD = HttpHeaders.createOptimized("x-caravan-overhead-ms");
    private static final CharSequence REQUEST_ID = HttpHeaders.createOptimized("x-request-id");

    private ReplyHeaders() {
    }

    public static void set(Exchange exchange, String name, String value) {
        MultiMap headers = exchange.getProperty(ExchangeKeys.REPLY_HEADERS, MultiMap.class);
        if (headers == null) {
            headers = MultiMap.caseInsensitiveMultiMap();
            exchange.setProperty(ExchangeKeys.REPLY_HEADERS, headers);
        }
        headers.set(name, value);
    }

    /**
     * Writes the gateway's reply headers to the client's response (a JSON reply, or a stream's head), with the time
     * the gateway itself spent on the request; an x-request-id for routes outside the model pipeline too.
     */
    public static void writeTo(HttpServerResponse response, Exchange exchange) {
        MultiMap headers = exchange.getProperty(ExchangeKeys.REPLY_HEADERS, MultiMap.class);
        if (headers != null) {
            response.headers().addAll(headers);
        }
        if (!response.headers().contains(REQUEST_ID)) {
            // routes outside the model pipeline (health, models, metrics, tasks) never ran its request-id hook
            response.putHeader(REQUEST_ID, RequestIds.accept(exchange.getMessage().getHeader("x-request-id",
                    String.class)));
        }
        Long received = exchange.getProperty(ExchangeKeys.RECEIVED_NANOS, Long.class);
        if (received != null) {
            response.putHeader(OVERHEAD, GatewayTime.overheadMillis(exchange, received));
        }
    }
}
