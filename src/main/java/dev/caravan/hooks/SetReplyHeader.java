package dev.caravan.hooks;

import dev.caravan.exchange.ReplyHeaders;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The step behind the {@code reply-header-action} kamelet: a header on the reply the client receives (a JSON
 * reply, an error, or a stream's head when set before the stream opened). Camel message headers never reach the
 * client: they are the request's, and steer components.
 */
public final class SetReplyHeader implements Processor {

    /** Exchange properties the kamelet sets from its parameters. */
    public static final String NAME = "CaravanReplyHeaderName";
    public static final String VALUE = "CaravanReplyHeaderValue";

    @Override
    public void process(Exchange exchange) {
        String name = exchange.getProperty(NAME, String.class);
        String value = exchange.getProperty(VALUE, String.class);
        exchange.removeProperties("CaravanReplyHeader*");
        if (name == null || name.isBlank() || !name.chars().allMatch(SetReplyHeader::token)) {
            throw new IllegalArgumentException("reply-header-action: '" + name + "' is not a header name");
        }
        if (value != null && value.chars().anyMatch(c -> c == '\r' || c == '\n')) {
            throw new IllegalArgumentException("reply-header-action: the value of '" + name + "' holds a line break");
        }
        ReplyHeaders.set(exchange, name, value == null ? "" : value);
    }

    /** RFC 9110 token characters. */
    private static boolean token(int c) {
        return c > 32 && c < 127 && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
    }
}
