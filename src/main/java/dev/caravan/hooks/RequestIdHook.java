package dev.caravan.hooks;

import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.exchange.ReplyHeaders;
import dev.caravan.exchange.RequestIds;
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
