package dev.caravan.api;

import dev.caravan.exchange.ErrorMapping;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.exchange.ReplyHeaders;
import dev.caravan.openai.OpenAiError;
import dev.caravan.stream.StreamErrors;
import io.vertx.core.http.HttpServerResponse;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The error route's step: the caught failure becomes OpenAI's error object with its status as the reply, or,
 * when a stream had already started, a last error event on it.
 */
public final class ErrorReply implements Processor {

    @Override
    public void process(Exchange exchange) {
        Throwable failure = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        OpenAiError error = ErrorMapping.toOpenAiError(failure, exchange);
        exchange.setProperty(ExchangeKeys.ERROR, error);
        HttpServerResponse response = exchange.getProperty(ExchangeKeys.RESPONSE, HttpServerResponse.class);
        if (response != null && response.headWritten()) {
            StreamErrors.writeAndEnd(response, error);
            return;
        }
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, error.status());
        if (error.retryAfterSeconds() > 0) {
            ReplyHeaders.set(exchange, "retry-after", Long.toString(error.retryAfterSeconds()));
        }
        exchange.getMessage().setBody(error.toJson());
    }
}
