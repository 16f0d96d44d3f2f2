package dev.caravan.observe;

import java.util.concurrent.TimeUnit;

import dev.caravan.api.ExchangeKeys;
import dev.caravan.config.ModelRoute;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.Usage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Post-hook and error-path step: one count, one latency sample and the tokens and cost of each model request,
 * labelled by model, backend and outcome. Meters are looked up per request (a map lookup, cached by Micrometer).
 */
public final class RequestMetrics implements Processor {

    private final MeterRegistry registry;

    public RequestMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void process(Exchange exchange) {
        ModelRoute route = exchange.getProperty(ExchangeKeys.MODEL_ROUTE, ModelRoute.class);
        String model = route == null ? "none" : route.model();
        String backend = route == null ? "none" : route.backendName();
        OpenAiError error = exchange.getProperty(ExchangeKeys.ERROR, OpenAiError.class);
        String outcome = error == null ? "ok" : error.code() == null ? "error" : error.code();
        Long received = exchange.getProperty(ExchangeKeys.RECEIVED_NANOS, Long.class);
        if (received != null) {
            Timer.builder("caravan.request.duration")
                    .description("Time from request received to reply (or stream) ended")
                    .tags("model", model, "backend", backend, "outcome", outcome)
                    .publishPercentileHistogram()
                    .register(registry)
                    .record(System.nanoTime() - received, TimeUnit.NANOSECONDS);
        }
        Counter.builder("caravan.requests").tags("model", model, "backend", backend, "outcome", outcome)
                .register(registry).increment();
        Usage usage = exchange.getProperty(ExchangeKeys.USAGE, Usage.class);
        if (usage != null) {
            Counter.builder("caravan.tokens").tags("model", model, "backend", backend, "direction", "in")
                    .register(registry).increment(usage.promptTokens());
            Counter.builder("caravan.tokens").tags("model", model, "backend", backend, "direction", "out")
                    .register(registry).increment(usage.completionTokens());
        }
        Double cost = exchange.getProperty(ExchangeKeys.COST, Double.class);
        if (cost != null && cost > 0) {
            Counter.builder("caravan.cost.usd").tags("model", model, "backend", backend)
                    .register(registry).increment(cost);
        }
    }
}
