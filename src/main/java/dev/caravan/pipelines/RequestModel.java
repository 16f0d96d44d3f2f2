package dev.caravan.pipelines;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.exchange.ExchangeKeys;
import org.apache.camel.Exchange;

/** The model id the request names: the body's "model" (the body is the request from validation on). */
final class RequestModel {

    private RequestModel() {
    }

    static String of(Exchange exchange) {
        Object body = exchange.getMessage().getBody();
        JsonNode request = body instanceof JsonNode node && node.isObject() ? node
                : exchange.getProperty(ExchangeKeys.REQUEST, JsonNode.class);
        return request == null ? null : request.path("model").asText(null);
    }
}
