package dev.caravan.hooks;

import dev.caravan.api.ExchangeKeys;
import dev.caravan.api.ReplyHeaders;
import dev.caravan.api.RequestIds;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/** Takes the client's x-request-id (when it is sane) or makes one; it goes upstream, into logs and back. */
public final class RequestIdHook implements Processor {

    @Override
    public void process(Exchange exchange) {
        String id = RequestIds.accept(exchange.getMessage().getHeader("x-request-id", String.class));
        exchange.setProperty(ExchangeKeys.REQUEST_ID, id);
        ReplyHeaders.set(exchange, "x-request-id", id);
    }
}
