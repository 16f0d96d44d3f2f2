package dev.caravan.hooks;

import dev.caravan.exchange.DebugTrace;
import dev.caravan.exchange.ExchangeKeys;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;

/**
 * Pipeline step "debug", the first of every model request: {@code x-caravan-debug: true} from whoever may call the
 * admin endpoints (see {@link AdminAuth}: the ADMIN_API_KEY when set; with auth off, anyone who reaches the
 * gateway, loopback only unless HOST says otherwise) starts the request's {@link DebugTrace}, returned with the reply
 * (README "Debugging a request"). From anyone else the header is dropped without a word: routing internals do not
 * leak. A request without the header pays this one header lookup.
 * <p>
 * The admin key is the request's own key (Bearer or x-api-key: with auth off, or when it is also a configured key)
 * or {@value #ADMIN_KEY}, which leaves the message at once. It runs before auth, so it reads the request's key
 * without taking it; auth still decides whether the request may run.
 */
public final class DebugSwitch implements Processor {

    /**
     * Where the admin key goes when the request runs with another key (a client's, to see its own routing): the
     * request's key is what auth and routing use, so it cannot also be the admin's. Read only with the debug header.
     */
    public static final String ADMIN_KEY = "x-caravan-admin-key";

    private final AdminAuth admin;

    public DebugSwitch(AdminAuth admin) {
        this.admin = admin;
    }

    @Override
    public void process(Exchange exchange) {
        Message message = exchange.getMessage();
        Object asked = message.getHeader(DebugTrace.HEADER);
        if (asked == null) {
            return;
        }
        message.removeHeader(DebugTrace.HEADER);
        String adminKey = message.getHeader(ADMIN_KEY, String.class);
        message.removeHeader(ADMIN_KEY);
        if ("true".equalsIgnoreCase(asked.toString().trim())
                && admin.admits(adminKey != null ? adminKey : PresentedKey.peek(exchange))) {
            Long received = exchange.getProperty(ExchangeKeys.RECEIVED_NANOS, Long.class);
            DebugTrace.start(exchange, received == null ? System.nanoTime() : received);
        }
    }
}
