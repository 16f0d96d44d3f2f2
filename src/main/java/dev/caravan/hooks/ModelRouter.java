package dev.caravan.hooks;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.config.LiveConfig;
import dev.caravan.config.ModelRoute;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.exchange.ReplyHeaders;
import dev.caravan.exchange.RequestBody;
import dev.caravan.openai.OpenAiError;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Resolves the request's model to its backend, for the router's choice of lane. The configuration snapshot
 * in force at this moment serves the request to its end, whatever reloads happen meanwhile.
 */
public final class ModelRouter implements Processor {

    private final LiveConfig config;

    public ModelRouter(LiveConfig config) {
        this.config = config;
    }

    @Override
    public void process(Exchange exchange) {
        ObjectNode request = RequestBody.of(exchange);
        String model = request.path("model").asText();
        ModelRoute route = config.catalog().resolve(model).orElseThrow(() -> OpenAiError.modelNotFound(model));
        exchange.setProperty(ExchangeKeys.MODEL_ROUTE, route);
        exchange.setProperty(ExchangeKeys.BACKEND, route.backendName());
        ReplyHeaders.set(exchange, "x-caravan-backend", route.backendName());
    }
}
