package dev.caravan.hooks;

import dev.caravan.openai.OpenAiError;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The step behind the {@code reject-action} kamelet: answers the request now with a 4xx in the dialect's error
 * shape (status, code, message from the kamelet's parameters), no stack trace, no DLQ entry (only 5xx are kept).
 * The post-hooks still run, with the error on the exchange.
 */
public final class Reject implements Processor {

    /** Exchange properties the kamelet sets from its parameters. */
    public static final String STATUS = "CaravanRejectStatus";
    public static final String CODE = "CaravanRejectCode";
    public static final String MESSAGE = "CaravanRejectMessage";

    @Override
    public void process(Exchange exchange) {
        int status = exchange.getProperty(STATUS, 400, Integer.class);
        if (status < 400 || status > 499) {
            status = 400; // a hook refuses a request; the upstream side's failures (5xx) are not a hook's to invent
        }
        String code = exchange.getProperty(CODE, "rejected", String.class);
        String message = exchange.getProperty(MESSAGE, "The request was rejected", String.class);
        exchange.removeProperties("CaravanReject*");
        throw new OpenAiError(status, "invalid_request_error", code, null, message);
    }
}
