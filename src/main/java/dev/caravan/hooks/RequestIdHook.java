package dev.caravan.hooks;

import java.util.concurrent.ThreadLocalRandom;

import dev.caravan.api.ExchangeKeys;
import dev.caravan.api.ReplyHeaders;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/** Takes the client's x-request-id (when it is sane) or makes one; it goes upstream, into logs and back. */
public final class RequestIdHook implements Processor {

    private static final int MAX_LENGTH = 128;

    @Override
    public void process(Exchange exchange) {
        String id = exchange.getMessage().getHeader("x-request-id", String.class);
        if (id == null || id.isBlank() || id.length() > MAX_LENGTH || !printable(id)) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            id = "req_" + Long.toHexString(random.nextLong() | Long.MIN_VALUE)
                    + Long.toHexString(random.nextLong() | Long.MIN_VALUE);
        }
        exchange.setProperty(ExchangeKeys.REQUEST_ID, id);
        ReplyHeaders.set(exchange, "x-request-id", id);
    }

    private static boolean printable(String id) {
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                return false;
            }
        }
        return true;
    }
}
