package dev.caravan.hooks;

import dev.caravan.config.ModelRoute;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.openai.Usage;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/** Post-hook: the request's cost from its usage and the model's price, for metrics, budgets and logs. */
public final class UsageCost implements Processor {

    @Override
    public void process(Exchange exchange) {
        Usage usage = exchange.getProperty(ExchangeKeys.USAGE, Usage.class);
        ModelRoute route = exchange.getProperty(ExchangeKeys.MODEL_ROUTE, ModelRoute.class);
        if (usage == null || route == null) {
            return;
        }
        double cost = route.config().costOrFree().of(usage.promptTokens(), usage.completionTokens());
        exchange.setProperty(ExchangeKeys.COST, cost);
    }
}
