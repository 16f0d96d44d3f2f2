package dev.caravan.config;

/**
 * One upstream as gateway.yaml declares it (DESIGN §3a); null fields take the defaults of {@link Defaults}: the lane
 * (max-concurrent, queue-size, queue-timeout-seconds), the whole upstream call (timeout-seconds), and the backend's
 * own retries and circuit breaker ({@code retry:}, {@code circuit-breaker:}, each key defaulting on its own to
 * application.properties' gateway.retry.* and gateway.circuit.*).
 */
public record BackendConfig(
        String type,
        String url,
        String apiKey,
        Integer maxConcurrent,
        Integer queueSize,
        Integer queueTimeoutSeconds,
        Integer timeoutSeconds,
        RetrySettings retry,
        CircuitBreakerSettings circuitBreaker) {

    /** A backend that says only what it is and where: every limit and setting from the defaults. */
    public static BackendConfig of(String type, String url, String apiKey) {
        return new BackendConfig(type, url, apiKey, null, null, null, null, null, null);
    }

    public BackendType backendType() {
        return BackendType.of(type);
    }

    BackendConfig withDefaults(Defaults defaults) {
        return new BackendConfig(type, url, apiKey,
                maxConcurrent != null ? maxConcurrent : defaults.maxConcurrent(),
                queueSize != null ? queueSize : defaults.queueSize(),
                queueTimeoutSeconds != null ? queueTimeoutSeconds : defaults.queueTimeoutSeconds(),
                timeoutSeconds != null ? timeoutSeconds : defaults.timeoutSeconds(),
                retry != null ? retry.withDefaults(defaults.retry()) : defaults.retry(),
                circuitBreaker != null ? circuitBreaker.withDefaults(defaults.circuitBreaker()) : defaults.circuitBreaker());
    }
}
