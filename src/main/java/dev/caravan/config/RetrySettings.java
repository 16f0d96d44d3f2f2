package dev.caravan.config;

/**
 * How often and how far apart the gateway calls a failing backend again (gateway.yaml {@code retry:} under a
 * backend; the keys of application.properties' gateway.retry.*, which are the defaults). Null fields take the
 * defaults.
 *
 * @param maxAttempts calls in all, the first included (1 = no retries)
 * @param baseDelayMs backoff ceiling after the first failure; doubles with each further one
 * @param maxDelayMs  longest wait between two attempts, an upstream's retry-after included
 */
public record RetrySettings(Integer maxAttempts, Long baseDelayMs, Long maxDelayMs) {

    /** Application.properties' own values, for a gateway built without them (tests, tools). */
    public static final RetrySettings BUILT_IN = new RetrySettings(3, 200L, 5000L);

    RetrySettings withDefaults(RetrySettings defaults) {
        return new RetrySettings(maxAttempts != null ? maxAttempts : defaults.maxAttempts(),
                baseDelayMs != null ? baseDelayMs : defaults.baseDelayMs(),
                maxDelayMs != null ? maxDelayMs : defaults.maxDelayMs());
    }

    /** Why these settings cannot work, or null; {@code where} names them (a key path) in the message. */
    public String problem(String where) {
        if (maxAttempts < 1) {
            return where + ".max-attempts must be at least 1, not " + maxAttempts;
        }
        if (baseDelayMs < 0 || maxDelayMs < 0) {
            return where + ".base-delay-ms and max-delay-ms must not be negative";
        }
        return null;
    }
}
