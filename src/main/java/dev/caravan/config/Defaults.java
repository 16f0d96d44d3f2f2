package dev.caravan.config;

/**
 * Defaults for what a backend does not say, from application.properties / env (MAX_CONCURRENT, ...,
 * gateway.retry.*, gateway.circuit.*).
 */
public record Defaults(int maxConcurrent, int queueSize, int queueTimeoutSeconds, int timeoutSeconds,
                       RetrySettings retry, CircuitBreakerSettings circuitBreaker) {

    /** With application.properties' own retry and circuit-breaker values. */
    public Defaults(int maxConcurrent, int queueSize, int queueTimeoutSeconds, int timeoutSeconds) {
        this(maxConcurrent, queueSize, queueTimeoutSeconds, timeoutSeconds, RetrySettings.BUILT_IN,
                CircuitBreakerSettings.BUILT_IN);
    }
}
