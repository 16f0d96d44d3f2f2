package dev.caravan.resilience;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

import dev.caravan.config.BackendConfig;
import dev.caravan.config.ModelCatalog;
import dev.caravan.openai.OpenAiError;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One resilience4j circuit breaker per backend. The breaker is used as a plain state machine, not as a decorator:
 * {@code tryAcquirePermission()} before each upstream call, {@code onSuccess}/{@code onError} with the call's
 * duration after it (for a stream, its time to first byte), so no thread ever waits on it. It opens when, over the
 * last calls, too many failed (connect errors, timeouts, 5xx, 429; a client's bad request is a success of the
 * backend) or were too slow; after the open wait a Vert.x timer half-opens it and a few probe calls decide.
 * <p>
 * Why not Camel's circuitBreaker EIP (camel-resilience4j): its processor runs the protected steps on a copy of the
 * exchange and waits for them ({@code processor.process(copy)} inside a decorated Callable), which on the event
 * loop that drives our routes blocks the loop or deadlocks. The same library, used directly, does not block.
 */
public final class CircuitBreakers {

    private static final Logger LOG = LoggerFactory.getLogger(CircuitBreakers.class);
    private static final String GAUGE = "caravan.circuit.state";

    private final Vertx vertx;
    private final CircuitBreakerRegistry registry;
    private final long openWaitMillis;
    private final Map<String, Entry> breakers = new ConcurrentHashMap<>();
    private volatile MeterRegistry meters;

    public CircuitBreakers(Vertx vertx, CircuitSettings settings) {
        this.vertx = vertx;
        this.openWaitMillis = settings.waitInOpenMillis();
        this.registry = CircuitBreakerRegistry.of(CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(settings.slidingWindowSize())
                .minimumNumberOfCalls(settings.minimumCalls())
                .failureRateThreshold(settings.failureRateThreshold())
                .slowCallRateThreshold(settings.slowCallRateThreshold())
                .slowCallDurationThreshold(Duration.ofMillis(settings.slowCallDurationMillis()))
                .waitDurationInOpenState(Duration.ofMillis(settings.waitInOpenMillis()))
                .permittedNumberOfCallsInHalfOpenState(settings.halfOpenCalls())
                // half-opened by our own Vert.x timer (see opened()), not by resilience4j's scheduler thread
                .automaticTransitionFromOpenToHalfOpenEnabled(false)
                .writableStackTraceEnabled(false)
                .build());
    }

    /**
     * Settings of every backend's breaker (application.properties, gateway.circuit.*).
     *
     * @param failureRateThreshold   percentage of failed calls in the window that opens the circuit
     * @param slowCallRateThreshold  percentage of slow calls in the window that opens the circuit
     * @param slowCallDurationMillis a call (a stream: its first byte) slower than this is slow
     * @param minimumCalls           calls in the window before the rates count at all
     * @param slidingWindowSize      the last N calls the rates are taken over
     * @param waitInOpenMillis       how long an open circuit fails fast before it half-opens
     * @param halfOpenCalls          probe calls let through when half-open; their outcome closes or re-opens it
     */
    public record CircuitSettings(float failureRateThreshold, float slowCallRateThreshold, long slowCallDurationMillis,
                                  int minimumCalls, int slidingWindowSize, long waitInOpenMillis, int halfOpenCalls) {
    }

    /** The breaker of a backend, made on first use. */
    public CircuitBreaker of(String backend) {
        return entry(backend).breaker;
    }

    /** True while the backend's circuit is open: calls fail fast (a half-open circuit lets its probes through). */
    public boolean isOpen(String backend) {
        CircuitBreaker.State state = of(backend).getState();
        return state == CircuitBreaker.State.OPEN || state == CircuitBreaker.State.FORCED_OPEN;
    }

    /** "closed", "open" or "half_open" (also "disabled", "forced_open", "metrics_only" if an operator set one). */
    public String state(String backend) {
        Entry entry = breakers.get(backend);
        return entry == null ? "closed" : entry.breaker.getState().name().toLowerCase(Locale.ROOT);
    }

    /** Whole seconds until the backend's open circuit half-opens (at least 1). */
    public long retryAfterSeconds(String backend) {
        Entry entry = breakers.get(backend);
        if (entry == null || entry.breaker.getState() != CircuitBreaker.State.OPEN) {
            return 1;
        }
        long leftNanos = entry.openedAtNanos + openWaitMillis * 1_000_000L - System.nanoTime();
        return Math.max(1, (leftNanos + 999_999_999L) / 1_000_000_000L);
    }

    /** 503 circuit_open, with retry-after = seconds until the circuit half-opens. */
    public OpenAiError openError(String backend) {
        long retryAfter = retryAfterSeconds(backend);
        return new OpenAiError(503, "server_error", "circuit_open", null, "Backend '" + backend
                + "' is failing and its circuit breaker is open; calls are not sent to it for now (retry after "
                + retryAfter + " s)", retryAfter, null);
    }

    /** Follows gateway.yaml: a breaker per backend (so /health and /metrics list them all), reset when one changes. */
    public void apply(ModelCatalog catalog) {
        Map<String, BackendConfig> backends = catalog.config().backends();
        for (String name : List.copyOf(breakers.keySet())) {
            Entry entry = breakers.get(name);
            BackendConfig now = backends.get(name);
            if (now == null || entry.config != null && (!Objects.equals(entry.config.url(), now.url())
                    || !Objects.equals(entry.config.type(), now.type()))) {
                remove(name); // gone, or now another upstream: its history says nothing of the new one
            }
        }
        backends.forEach((name, config) -> entry(name).config = config);
    }

    /** Registers the caravan_circuit_state gauges (1 for the state a backend's circuit is in) now and for new ones. */
    public void observe(MeterRegistry meterRegistry) {
        this.meters = meterRegistry;
        breakers.forEach((name, entry) -> gauges(name, entry.breaker));
    }

    private Entry entry(String backend) {
        Entry entry = breakers.get(backend);
        if (entry != null) {
            return entry;
        }
        return breakers.computeIfAbsent(backend, this::create);
    }

    private Entry create(String backend) {
        CircuitBreaker breaker = registry.circuitBreaker(backend);
        Entry entry = new Entry(breaker);
        breaker.getEventPublisher().onStateTransition(event -> {
            switch (event.getStateTransition().getToState()) {
                case OPEN -> opened(backend, entry);
                case HALF_OPEN -> LOG.info("Circuit of backend '{}' half-open: probing it with {} calls", backend,
                        breaker.getCircuitBreakerConfig().getPermittedNumberOfCallsInHalfOpenState());
                case CLOSED -> LOG.info("Circuit of backend '{}' closed: calls flow again", backend);
                default -> LOG.info("Circuit of backend '{}': {}", backend, event.getStateTransition());
            }
        });
        gauges(backend, breaker);
        return entry;
    }

    private void opened(String backend, Entry entry) {
        long openedAt = System.nanoTime();
        entry.openedAtNanos = openedAt;
        CircuitBreaker.Metrics metrics = entry.breaker.getMetrics();
        LOG.warn("Circuit of backend '{}' opened (failure rate {}%, slow calls {}%): its calls fail fast for {} ms",
                backend, metrics.getFailureRate(), metrics.getSlowCallRate(), openWaitMillis);
        vertx.setTimer(Math.max(1, openWaitMillis), id -> {
            if (entry.openedAtNanos == openedAt && entry.breaker.getState() == CircuitBreaker.State.OPEN) {
                try {
                    entry.breaker.transitionToHalfOpenState();
                } catch (RuntimeException e) {
                    LOG.debug("Circuit of backend '{}' not half-opened: {}", backend, e.toString()); // a call got there first
                }
            }
        });
    }

    private void gauges(String backend, CircuitBreaker breaker) {
        MeterRegistry registry = meters;
        if (registry == null) {
            return;
        }
        for (CircuitBreaker.State state : List.of(CircuitBreaker.State.CLOSED, CircuitBreaker.State.OPEN,
                CircuitBreaker.State.HALF_OPEN)) {
            Gauge.builder(GAUGE, breaker, b -> b.getState() == state ? 1 : 0)
                    .tags("backend", backend, "state", state.name().toLowerCase(Locale.ROOT))
                    .description("1 for the state the backend's circuit breaker is in")
                    .register(registry);
        }
    }

    private void remove(String backend) {
        breakers.remove(backend);
        registry.remove(backend);
        MeterRegistry registry = meters;
        if (registry != null) {
            for (Meter meter : List.copyOf(registry.getMeters())) {
                if (meter.getId().getName().equals(GAUGE) && backend.equals(meter.getId().getTag("backend"))) {
                    registry.remove(meter);
                }
            }
        }
    }

    private static final class Entry {
        final CircuitBreaker breaker;
        volatile BackendConfig config;
        volatile long openedAtNanos;

        Entry(CircuitBreaker breaker) {
            this.breaker = breaker;
        }
    }
}
