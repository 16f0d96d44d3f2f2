package dev.caravan.observe;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import dev.caravan.config.ListedModels;
import dev.caravan.config.LiveConfig;
import dev.caravan.config.ModelRoute;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.Usage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Post-hook and error-path step: one count, one latency sample and the tokens and cost of each model request,
 * labelled by model, backend and outcome. The meters of a label set are made once and kept.
 */
public final class RequestMetrics implements Processor {

    /** The model label of every id that is neither configured nor listed by an upstream. */
    public static final String OTHER_MODEL = "other";
    /** Distinct intent labels counted under their own name; more (a route setting CaravanIntent freely) are "other". */
    static final int MAX_INTENTS = 64;

    private final MeterRegistry registry;
    private final LiveConfig config;
    private final ListedModels listed;
    private final Map<Labels, Meters> meters = new ConcurrentHashMap<>();
    private final Map<IntentLabels, Counter> intents = new ConcurrentHashMap<>();

    public RequestMetrics(MeterRegistry registry, LiveConfig config, ListedModels listed) {
        this.registry = registry;
        this.config = config;
        this.listed = listed;
    }

    @Override
    public void process(Exchange exchange) {
        ModelRoute route = exchange.getProperty(ExchangeKeys.MODEL_ROUTE, ModelRoute.class);
        OpenAiError error = exchange.getProperty(ExchangeKeys.ERROR, OpenAiError.class);
        Labels labels = new Labels(route == null ? "none" : modelLabel(route), route == null ? "none" : route.backendName(),
                error == null ? "ok" : error.code() == null ? "error" : error.code());
        Meters m = meters.computeIfAbsent(labels, this::create);
        Long received = exchange.getProperty(ExchangeKeys.RECEIVED_NANOS, Long.class);
        if (received != null) {
            m.duration.record(System.nanoTime() - received, TimeUnit.NANOSECONDS);
        }
        m.requests.increment();
        Usage usage = exchange.getProperty(ExchangeKeys.USAGE, Usage.class);
        if (usage != null) {
            m.tokensIn.increment(usage.promptTokens());
            m.tokensOut.increment(usage.completionTokens());
        }
        Double cost = exchange.getProperty(ExchangeKeys.COST, Double.class);
        if (cost != null && cost > 0) {
            m.cost.increment(cost);
        }
        Object intent = exchange.getProperty(ExchangeKeys.INTENT);
        if (intent != null) {
            intentCounter(new IntentLabels(labels.model, labels.outcome, intent.toString())).increment();
        }
    }

    /** The intent step's labels are a bounded set; a label beyond {@link #MAX_INTENTS} counts as "other". */
    private Counter intentCounter(IntentLabels labels) {
        Counter counter = intents.get(labels);
        if (counter != null) {
            return counter;
        }
        IntentLabels kept = intents.size() >= MAX_INTENTS
                ? new IntentLabels(labels.model, labels.outcome, OTHER_MODEL) : labels;
        return intents.computeIfAbsent(kept, l -> Counter.builder("caravan.intent.requests")
                .description("Model requests by the intent step's label")
                .tags("intent", l.intent, "model", l.model, "outcome", l.outcome).register(registry));
    }

    /**
     * The model as a label: a configured id or alias, or an id an upstream listed in /v1/models (bounded); any other
     * id a prefix model let through is "other", so invented ids cannot grow /metrics without bound. Two hash lookups.
     */
    private String modelLabel(ModelRoute route) {
        String model = route.model();
        return config.catalog().isDeclared(model) || listed.contains(model) ? model : OTHER_MODEL;
    }

    private Meters create(Labels l) {
        return new Meters(
                Timer.builder("caravan.request.duration")
                        .description("Time from request received to reply (or stream) ended")
                        .tags("model", l.model, "backend", l.backend, "outcome", l.outcome)
                        .publishPercentileHistogram()
                        .register(registry),
                Counter.builder("caravan.requests").description("Model requests by outcome")
                        .tags("model", l.model, "backend", l.backend, "outcome", l.outcome).register(registry),
                Counter.builder("caravan.tokens").description("Tokens in (prompt) and out (completion)")
                        .tags("model", l.model, "backend", l.backend, "direction", "in").register(registry),
                Counter.builder("caravan.tokens").description("Tokens in (prompt) and out (completion)")
                        .tags("model", l.model, "backend", l.backend, "direction", "out").register(registry),
                Counter.builder("caravan.cost.usd").description("Cost from usage and the model's price")
                        .tags("model", l.model, "backend", l.backend).register(registry));
    }

    private record Labels(String model, String backend, String outcome) {
    }

    private record IntentLabels(String model, String outcome, String intent) {
    }

    private record Meters(Timer duration, Counter requests, Counter tokensIn, Counter tokensOut, Counter cost) {
    }
}
