package dev.caravan.hooks;

import dev.caravan.config.KeyConfig;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.exchange.RequestBody;
import dev.caravan.openai.OpenAiError;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Router step "model-access", right after the model is resolved (so an unknown model is a 404 first): the model
 * id the client sent must match one of the key's {@code models} globs ({@link KeyConfig#allows}), else 403
 * model_not_allowed. Without auth there is no key and nothing to check.
 */
public final class ModelAccess implements Processor {

    @Override
    public void process(Exchange exchange) {
        KeyConfig key = exchange.getProperty(ExchangeKeys.KEY, KeyConfig.class);
        if (key == null || key.models() == null) {
            return;
        }
        String model = RequestBody.of(exchange).path("model").asText();
        if (!key.allows(model)) {
            throw new OpenAiError(403, "invalid_request_error", "model_not_allowed", "model",
                    "The model " + OpenAiError.echo(model) + " is not allowed for this API key.");
        }
    }
}
