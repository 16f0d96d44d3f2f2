package dev.caravan.resilience;

import dev.caravan.config.LiveConfig;
import io.vertx.core.Vertx;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.spi.Registry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The beans of retries, circuit breakers, fallbacks and deadlines, by the names routes/ uses: {@code requestDeadline}
 * (pre-hook "deadline"), {@code circuitCheck} and {@code nextFallback} (router), {@code circuitBreakers}. Settings
 * (application.properties): gateway.pipeline-timeout-seconds (PIPELINE_TIMEOUT_SECONDS), gateway.retry.*,
 * gateway.circuit.*.
 *
 * @param circuits one circuit breaker per backend
 * @param retries  how the backend call retries
 */
public record Resilience(CircuitBreakers circuits, RetryPolicy retries) {

    private static final Logger LOG = LoggerFactory.getLogger(Resilience.class);

    public static Resilience bind(CamelContext camel, LiveConfig config, Vertx vertx) {
        PropertiesComponent properties = camel.getPropertiesComponent();
        RetryPolicy retries = new RetryPolicy((int) number(properties, "gateway.retry.max-attempts", 3),
                number(properties, "gateway.retry.base-delay-ms", 200),
                number(properties, "gateway.retry.max-delay-ms", 5000));
        CircuitBreakers.CircuitSettings settings = new CircuitBreakers.CircuitSettings(
                number(properties, "gateway.circuit.failure-rate-threshold", 50),
                number(properties, "gateway.circuit.slow-call-rate-threshold", 80),
                number(properties, "gateway.circuit.slow-call-duration-ms", 60_000),
                (int) number(properties, "gateway.circuit.minimum-calls", 10),
                (int) number(properties, "gateway.circuit.sliding-window-size", 20),
                number(properties, "gateway.circuit.wait-in-open-ms", 30_000),
                (int) number(properties, "gateway.circuit.half-open-calls", 2),
                properties.resolveProperty("gateway.circuit.scope").map(String::trim).orElse("model"),
                (int) number(properties, "gateway.circuit.max-models", 64));
        if (!settings.scope().equalsIgnoreCase("model") && !settings.scope().equalsIgnoreCase("backend")) {
            throw new IllegalArgumentException("gateway.circuit.scope must be model or backend, not '"
                    + settings.scope() + "'");
        }
        long timeoutSeconds = number(properties, "gateway.pipeline-timeout-seconds", 600);

        if (settings.minimumCalls() > settings.slidingWindowSize()) {
            LOG.warn("gateway.circuit.minimum-calls ({}) is larger than gateway.circuit.sliding-window-size ({}): "
                    + "a circuit judges as soon as its window is full (resilience4j caps the minimum at the window)",
                    settings.minimumCalls(), settings.slidingWindowSize());
        }
        CircuitBreakers circuits = new CircuitBreakers(vertx, settings);
        circuits.apply(config.catalog());
        config.onChange(circuits::apply);
        Registry registry = camel.getRegistry();
        registry.bind("circuitBreakers", circuits);
        registry.bind("requestDeadline", new RequestDeadline(vertx, timeoutSeconds));
        registry.bind("circuitCheck", new CircuitCheck(circuits));
        registry.bind("nextFallback", new NextFallback(config));
        LOG.info("Resilience: {} attempts per backend (backoff {}–{} ms), a circuit per {} that opens at {}% failures "
                        + "or {}% calls slower than {} ms over {} calls (at least {}) for {} ms, request deadline {}",
                retries.maxAttempts(), retries.baseDelayMillis(), retries.maxDelayMillis(),
                settings.scope().equalsIgnoreCase("model") ? "backend and model" : "backend",
                settings.failureRateThreshold(), settings.slowCallRateThreshold(), settings.slowCallDurationMillis(),
                settings.slidingWindowSize(), settings.minimumCalls(), settings.waitInOpenMillis(),
                timeoutSeconds > 0 ? timeoutSeconds + " s" : "none");
        return new Resilience(circuits, retries);
    }

    private static long number(PropertiesComponent properties, String key, long fallback) {
        String value = properties.resolveProperty(key).map(String::trim).orElse("");
        if (value.isEmpty()) {
            return fallback;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a whole number, not '" + value + "'");
        }
    }
}
