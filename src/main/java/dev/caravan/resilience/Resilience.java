package dev.caravan.resilience;

import dev.caravan.config.CircuitBreakerSettings;
import dev.caravan.config.LiveConfig;
import dev.caravan.config.RetrySettings;
import io.vertx.core.Vertx;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.spi.Registry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The beans of retries, circuit breakers, fallbacks and deadlines, by the names routes/ uses: {@code requestDeadline}
 * (pre-hook "deadline"), {@code circuitCheck} and {@code nextFallback} (router), {@code circuitBreakers}. Settings
 * (application.properties): gateway.pipeline-timeout-seconds (PIPELINE_TIMEOUT_SECONDS), gateway.circuit.scope and
 * gateway.circuit.max-models; gateway.retry.* and the other gateway.circuit.* are the defaults of each backend's own
 * {@code retry:} and {@code circuit-breaker:} in gateway.yaml ({@link #retryDefaults}, {@link #circuitDefaults}).
 *
 * @param circuits the circuit breakers of every backend
 */
public record Resilience(CircuitBreakers circuits) {

    private static final Logger LOG = LoggerFactory.getLogger(Resilience.class);

    public static Resilience bind(CamelContext camel, LiveConfig config, Vertx vertx) {
        PropertiesComponent properties = camel.getPropertiesComponent();
        RetrySettings retries = retryDefaults(properties);
        CircuitBreakerSettings breaker = circuitDefaults(properties);
        String scope = properties.resolveProperty("gateway.circuit.scope").map(String::trim).orElse("model");
        if (!scope.equalsIgnoreCase("model") && !scope.equalsIgnoreCase("backend")) {
            throw new IllegalArgumentException("gateway.circuit.scope must be model or backend, not '" + scope + "'");
        }
        int maxModels = (int) number(properties, "gateway.circuit.max-models", 64);
        long timeoutSeconds = number(properties, "gateway.pipeline-timeout-seconds", 600);

        if (breaker.minimumCalls() > breaker.slidingWindowSize()) {
            LOG.warn("gateway.circuit.minimum-calls ({}) is larger than gateway.circuit.sliding-window-size ({}): "
                    + "a circuit judges as soon as its window is full (resilience4j caps the minimum at the window)",
                    breaker.minimumCalls(), breaker.slidingWindowSize());
        }
        CircuitBreakers circuits = new CircuitBreakers(vertx, scope, maxModels);
        circuits.apply(config.catalog());
        config.onChange(circuits::apply);
        Registry registry = camel.getRegistry();
        registry.bind("circuitBreakers", circuits);
        registry.bind("requestDeadline", new RequestDeadline(vertx, timeoutSeconds));
        registry.bind("circuitCheck", new CircuitCheck(circuits));
        registry.bind("nextFallback", new NextFallback(config));
        LOG.info("Resilience (defaults of backends that do not say): {} attempts per call (backoff {}–{} ms), a circuit "
                        + "per {} that opens at {}% failures or {}% calls slower than {} ms over {} calls (at least {}) "
                        + "for {} ms; request deadline {}",
                retries.maxAttempts(), retries.baseDelayMs(), retries.maxDelayMs(),
                scope.equalsIgnoreCase("model") ? "backend and model" : "backend",
                breaker.failureRateThreshold(), breaker.slowCallRateThreshold(), breaker.slowCallDurationMs(),
                breaker.slidingWindowSize(), breaker.minimumCalls(), breaker.waitInOpenMs(),
                timeoutSeconds > 0 ? timeoutSeconds + " s" : "none");
        return new Resilience(circuits);
    }

    /** gateway.retry.*: the retries of a backend whose gateway.yaml entry does not say. */
    public static RetrySettings retryDefaults(PropertiesComponent properties) {
        RetrySettings built = RetrySettings.BUILT_IN;
        RetrySettings settings = new RetrySettings(
                (int) number(properties, "gateway.retry.max-attempts", built.maxAttempts()),
                number(properties, "gateway.retry.base-delay-ms", built.baseDelayMs()),
                number(properties, "gateway.retry.max-delay-ms", built.maxDelayMs()));
        String problem = settings.problem("gateway.retry");
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return settings;
    }

    /** gateway.circuit.* (but scope and max-models): the circuit breaker of a backend whose entry does not say. */
    public static CircuitBreakerSettings circuitDefaults(PropertiesComponent properties) {
        CircuitBreakerSettings built = CircuitBreakerSettings.BUILT_IN;
        CircuitBreakerSettings settings = new CircuitBreakerSettings(
                (float) number(properties, "gateway.circuit.failure-rate-threshold", built.failureRateThreshold().longValue()),
                (float) number(properties, "gateway.circuit.slow-call-rate-threshold", built.slowCallRateThreshold().longValue()),
                number(properties, "gateway.circuit.slow-call-duration-ms", built.slowCallDurationMs()),
                (int) number(properties, "gateway.circuit.minimum-calls", built.minimumCalls()),
                (int) number(properties, "gateway.circuit.sliding-window-size", built.slidingWindowSize()),
                number(properties, "gateway.circuit.wait-in-open-ms", built.waitInOpenMs()),
                (int) number(properties, "gateway.circuit.half-open-calls", built.halfOpenCalls()));
        String problem = settings.problem("gateway.circuit");
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return settings;
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
