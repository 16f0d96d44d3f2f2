package dev.caravan.pipelines;

import dev.caravan.exchange.RequestBody;
import org.apache.camel.Exchange;

/** The model id the request names: the body's "model" (the body is the request from the validate step on). */
final class RequestModel {

    private RequestModel() {
    }

    static String of(Exchange exchange) {
        return RequestBody.of(exchange).path("model").asText(null);
    }
}
