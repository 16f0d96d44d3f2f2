package dev.caravan.config;

/**
 * When a backend's circuit breaker opens and for how long (gateway.yaml {@code circuit-breaker:} under a backend;
 * the keys of application.properties' gateway.circuit.*, which are the defaults). Null fields take the defaults.
 *
 * @param failureRateThreshold  percentage of failed calls in the window that opens the circuit
 * @param slowCallRateThreshold percentage of slow calls in the window that opens the circuit
 * @param slowCallDurationMs    a call (a stream: its first byte) slower than this is slow
 * @param minimumCalls          calls in the window before the rates count at all
 * @param slidingWindowSize     the last N calls the rates are taken over
 * @param waitInOpenMs          how long an open circuit fails fast before it half-opens
 * @param halfOpenCalls         probe calls let through when half-open; their outcome closes or re-opens it
 */
public record CircuitBreakerSettings(Float failureRateThreshold, Float slowCallRateThreshold, Long slowCallDurationMs,
                                     Integer minimumCalls, Integer slidingWindowSize, Long waitInOpenMs,
                                     Integer halfOpenCalls) {

    /** Application.properties' own values, for a gateway built without them (tests, tools). */
    public static final CircuitBreakerSettings BUILT_IN = new CircuitBreakerSettings(50f, 80f, 60_000L, 10, 20,
            30_000L, 2);

    CircuitBreakerSettings withDefaults(CircuitBreakerSettings d) {
        return new CircuitBreakerSettings(
                failureRateThreshold != null ? failureRateThreshold : d.failureRateThreshold(),
                slowCallRateThreshold != null ? slowCallRateThreshold : d.slowCallRateThreshold(),
                slowCallDurationMs != null ? slowCallDurationMs : d.slowCallDurationMs(),
                minimumCalls != null ? minimumCalls : d.minimumCalls(),
                slidingWindowSize != null ? slidingWindowSize : d.slidingWindowSize(),
                waitInOpenMs != null ? waitInOpenMs : d.waitInOpenMs(),
                halfOpenCalls != null ? halfOpenCalls : d.halfOpenCalls());
    }

    /** Why these settings cannot work, or null; {@code where} names them (a key path) in the message. */
    public String problem(String where) {
        if (!(failureRateThreshold > 0 && failureRateThreshold <= 100)
                || !(slowCallRateThreshold > 0 && slowCallRateThreshold <= 100)) {
            return where + ".failure-rate-threshold and slow-call-rate-threshold are percentages: above 0, at most 100";
        }
        if (minimumCalls < 1 || slidingWindowSize < 1 || halfOpenCalls < 1) {
            return where + ".minimum-calls, sliding-window-size and half-open-calls must be at least 1";
        }
        if (slowCallDurationMs < 1 || waitInOpenMs < 1) {
            return where + ".slow-call-duration-ms and wait-in-open-ms must be at least 1";
        }
        return null;
    }
}
