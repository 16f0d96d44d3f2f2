package dev.caravan.api;

import io.vertx.core.MultiMap;
import org.apache.camel.Exchange;

/** Response headers the gateway adds on the way (x-request-id, x-caravan-backend, ...), kept off Camel headers. */
public final class ReplyHeaders {

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
}
