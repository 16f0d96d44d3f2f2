package dev.caravan.exchange;

import dev.caravan.openai.OpenAiError;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeTimedOutException;
import org.apache.camel.component.direct.DirectConsumerNotAvailableException;
import org.apache.camel.processor.ThrottlerRejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Turns any failure on the request path into the OpenAI error the client sees. */
public final class ErrorMapping {

    private static final Logger LOG = LoggerFactory.getLogger(ErrorMapping.class);

    private ErrorMapping() {
    }

    public static OpenAiError toOpenAiError(Throwable failure, Exchange exchange) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof OpenAiError error) {
                return error;
            }
            if (t instanceof ThrottlerRejectedExecutionException) {
                return OpenAiError.overloaded("The backend is at its concurrency limit", 1);
            }
            if (t instanceof DirectConsumerNotAvailableException) {
                return OpenAiError.notReady("The gateway is starting or reloading; try again");
            }
            if (t instanceof ExchangeTimedOutException) {
                return OpenAiError.deadline("The request took longer than its deadline");
            }
        }
        String requestId = exchange == null ? null : exchange.getProperty(ExchangeKeys.REQUEST_ID, String.class);
        LOG.error("Unexpected failure on request {}", requestId, failure);
        // the id may be the client's own (up to 128 characters): quoted short, as every client value; x-request-id has it whole
        return OpenAiError.internal("The gateway failed to process the request (request id "
                + (requestId == null ? "none" : OpenAiError.echo(requestId)) + ")");
    }
}
