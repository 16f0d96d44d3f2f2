package dev.caravan.resilience;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import dev.caravan.config.BackendConfig;
import dev.caravan.config.CircuitBreakerSettings;
import dev.caravan.config.ModelCatalog;
import dev.caravan.config.ModelRoute;
import dev.caravan.exchange.Jmx;
import dev.caravan.openai.OpenAiError;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import org.apache.camel.CamelContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * resilience4j circuit breakers, one per backend and upstream model by default ({@code gateway.circuit.scope =
 * model}), or one per backend ({@code backend}): a model id the upstream fails on (a bad id on a prefix backend)
 * opens its own circuit, not the one its backend's other models use. A backend has at most {@code maxModels}
 * circuits of its own models; the models past that share one, so invented ids cannot grow the set.
 * <p>
 * The breaker is used as a plain state machine, not as a decorator: {@code tryAcquirePermission()} before each
 * upstream call, {@code onSuccess}/{@code onError} with the call's duration after it (for a stream, its time to
 * first byte), so no thread ever waits on it. It opens when, over the last calls, too many failed (connect errors,
 * timeouts, 5xx; see {@link Failures#countsAgainstBackend}) or were too slow; after the open wait a Vert.x timer
 * half-opens it and a few probe calls decide.
 * <p>
 * Each backend's breakers take its own thresholds and open wait (gateway.yaml {@code circuit-breaker:}, defaults
 * gateway.circuit.*); a backend whose settings change starts afresh, as one whose url or type changed does.
 * <p>
 * A backend's state (in /health, /v1/lanes and the caravan_circuit_state gauge, whose labels stay one set per
 * backend) is the worst of its circuits; {@link #openModels} lists the models whose circuit is not closed.
 * <p>
 * Why not Camel's circuitBreaker EIP (camel-resilience4j): its processor runs the protected steps on a copy of the
 * exchange and waits for them ({@code processor.process(copy)} inside a decorated Callable), which on the event
 * loop that drives our routes blocks the loop or deadlocks. The same library, used directly, does not block.
 */
public final class CircuitBreakers {

    private static final Logger LOG = LoggerFactory.getLogger(CircuitBreakers.class);
    private static final String GAUGE = "caravan.circuit.state";
    /** The circuit of a backend as a whole (scope backend), or of its models past maxModels. */
    private static final String WHOLE = "";

    private final Vertx vertx;
    private final CircuitBreakerRegistry registry = CircuitBreakerRegistry.ofDefaults();
    private final boolean perModel;
    private final int maxModels;
    private final Map<String, Backend> backends = new ConcurrentHashMap<>();
    /** The failures the breakers counted, newest kept per backend: the console and health checks read them. */
    private final RecentErrors recentErrors = new RecentErrors();
    private volatile MeterRegistry meters;
    private volatile CamelContext camel;

    /**
     * @param scope     "model": a circuit per backend and upstream model; "backend": one per backend
     * @param maxModels circuits of their own per backend; the models past them share one
     */
    public CircuitBreakers(Vertx vertx, String scope, int maxModels) {
        this.vertx = vertx;
        this.perModel = !"backend".equalsIgnoreCase(scope.trim());
        this.maxModels = Math.max(1, maxModels);
    }

    /** resilience4j's form of a backend's circuit-breaker settings. */
    static CircuitBreakerConfig configOf(CircuitBreakerSettings settings) {
        return CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(settings.slidingWindowSize())
                .minimumNumberOfCalls(settings.minimumCalls())
                .failureRateThreshold(settings.failureRateThreshold())
                .slowCallRateThreshold(settings.slowCallRateThreshold())
                .slowCallDurationThreshold(Duration.ofMillis(settings.slowCallDurationMs()))
                .waitDurationInOpenState(Duration.ofMillis(settings.waitInOpenMs()))
                .permittedNumberOfCallsInHalfOpenState(settings.halfOpenCalls())
                // half-opened by our own Vert.x timer (see opened()), not by resilience4j's scheduler thread
                .automaticTransitionFromOpenToHalfOpenEnabled(false)
                .writableStackTraceEnabled(false)
                .build();
    }

    /** The last failures each backend's breakers counted (connect errors, timeouts, 502/504), newest first. */
    public RecentErrors recentErrors() {
        return recentErrors;
    }

    /** The breaker the calls of this route go through, made on first use. */
    public CircuitBreaker of(ModelRoute route) {
        return circuit(route).breaker;
    }

    /** True while the route's circuit is open: calls fail fast (a half-open circuit lets its probes through). */
    public boolean isOpen(ModelRoute route) {
        Circuit circuit = existing(route);
        if (circuit == null) {
            Backend backend = backends.get(route.backendName());
            return backend != null && backend.forcedOpen; // an operator forced the whole backend open
        }
        CircuitBreaker.State state = circuit.breaker.getState();
        return state == CircuitBreaker.State.OPEN || state == CircuitBreaker.State.FORCED_OPEN;
    }

    /**
     * The backend's state, the worst of its circuits: "open" if one is open, else "half_open" if one is, else
     * "closed" (also "disabled", "forced_open", "metrics_only" if an operator set one).
     */
    public String state(String backend) {
        CircuitBreaker.State worst = worst(backend);
        return worst.name().toLowerCase(Locale.ROOT);
    }

    /** The upstream models of the backend whose circuit is not closed, with its state; empty in backend scope. */
    public Map<String, String> openModels(String backend) {
        Map<String, String> open = new TreeMap<>();
        Backend of = backends.get(backend);
        if (of != null) {
            of.circuits.forEach((model, circuit) -> {
                if (!model.isEmpty() && circuit.breaker.getState() != CircuitBreaker.State.CLOSED) {
                    open.put(model, circuit.breaker.getState().name().toLowerCase(Locale.ROOT));
                }
            });
        }
        return open;
    }

    /** 503 circuit_open, with retry-after = seconds until the route's circuit half-opens. */
    public OpenAiError openError(ModelRoute route) {
        Circuit circuit = circuit(route);
        long retryAfter = circuit.retryAfterSeconds();
        String what = circuit.model.isEmpty() ? "Backend '" + route.backendName() + "'"
                : "Model '" + route.model() + "' on backend '" + route.backendName() + "'";
        return new OpenAiError(503, "server_error", "circuit_open", null, what
                + " is failing and its circuit breaker is open; calls are not sent to it for now (retry after "
                + retryAfter + " s)", retryAfter, null);
    }

    /** Follows gateway.yaml: every backend listed (so /health and /metrics show them all), reset when one changes. */
    public void apply(ModelCatalog catalog) {
        Map<String, BackendConfig> configured = catalog.config().backends();
        for (String name : List.copyOf(backends.keySet())) {
            Backend backend = backends.get(name);
            BackendConfig now = configured.get(name);
            if (now == null || backend.config != null && (!Objects.equals(backend.config.url(), now.url())
                    || !Objects.equals(backend.config.type(), now.type())
                    || !Objects.equals(backend.config.circuitBreaker(), now.circuitBreaker()))) {
                remove(name); // gone, another upstream, or judged by new rules: its history says nothing of the new one
            }
        }
        configured.forEach((name, config) -> backend(name).configure(config));
    }

    /** Registers the caravan_circuit_state gauges (1 for the state a backend is in) now and for new backends. */
    public void observe(MeterRegistry meterRegistry) {
        this.meters = meterRegistry;
        backends.keySet().forEach(this::gauges);
    }

    /** Registers each backend's {@link ManagedCircuits} MBean (JMX type=circuits) now and for new backends. */
    public void manage(CamelContext camelContext) {
        this.camel = camelContext;
        backends.keySet().forEach(this::mbean);
    }

    /** Whether the circuits are per backend and model (gateway.circuit.scope=model), or one per backend. */
    public boolean perModel() {
        return perModel;
    }

    /** Every circuit of the backend made so far, by upstream model ("" for the backend as a whole), with its state. */
    public Map<String, String> states(String backend) {
        Map<String, String> states = new TreeMap<>();
        Backend of = backends.get(backend);
        if (of != null) {
            of.circuits.forEach((model, circuit) ->
                    states.put(model, circuit.breaker.getState().name().toLowerCase(Locale.ROOT)));
        }
        return states;
    }

    /**
     * An operator's action (JMX): forces the circuit of the backend's upstream {@code model} open, or with no model
     * every circuit of the backend, those its models make later included, until forced closed or reset. Calls get
     * 503 circuit_open. Returns the backend's state after.
     */
    public String forceOpen(String backend, String model) {
        return operate(backend, model, true, c -> transition(c, CircuitBreaker.State.FORCED_OPEN), "forced open");
    }

    /** Closes the circuit (all of the backend's with no model): calls flow again, and it judges them afresh. */
    public String forceClosed(String backend, String model) {
        return operate(backend, model, false, c -> transition(c, CircuitBreaker.State.CLOSED), "closed");
    }

    /** Resets the circuit (all of the backend's with no model) to closed with an empty history. */
    public String reset(String backend, String model) {
        return operate(backend, model, false, CircuitBreaker::reset, "reset");
    }

    /**
     * One operator action on the circuit of the backend's upstream {@code model}, or with no model on all of the
     * backend's (then {@code forcedOpen} also decides for circuits its models make later); logged, the state after.
     */
    private String operate(String backend, String model, boolean forcedOpen, Consumer<CircuitBreaker> action,
                           String what) {
        Backend of = configured(backend);
        if (isWhole(model)) {
            of.forcedOpen = forcedOpen;
            of.circuits.values().forEach(c -> action.accept(c.breaker));
        } else {
            action.accept(circuitOf(backend, of, model.trim()).breaker);
        }
        String line = "Circuit of backend '" + backend + "'" + (isWhole(model) ? "" : ", model '" + model.trim() + "',")
                + " " + what + " by an operator";
        if (forcedOpen) {
            LOG.warn(line);
        } else {
            LOG.info(line);
        }
        return state(backend);
    }

    private static boolean isWhole(String model) {
        return model == null || model.isBlank();
    }

    private Backend configured(String backend) {
        Backend of = backend == null ? null : backends.get(backend);
        if (of == null) {
            throw new IllegalArgumentException("No backend '" + backend + "'; backends: " + backends.keySet());
        }
        return of;
    }

    /** The circuit the backend's calls to {@code model} go through (made if need be), as {@link #circuit} finds it. */
    private Circuit circuitOf(String name, Backend backend, String model) {
        String key = perModel ? model : WHOLE;
        if (!key.isEmpty() && !backend.circuits.containsKey(key) && backend.circuits.size() >= maxModels) {
            key = WHOLE;
        }
        return backend.circuits.computeIfAbsent(key, m -> create(name, m, backend.breakerConfig(backend.config),
                backend.forcedOpen));
    }

    private static void transition(CircuitBreaker breaker, CircuitBreaker.State to) {
        if (breaker.getState() == to) {
            return;
        }
        if (to == CircuitBreaker.State.FORCED_OPEN) {
            breaker.transitionToForcedOpenState();
        } else {
            breaker.transitionToClosedState();
        }
    }

    private void mbean(String backend) {
        CamelContext context = camel;
        if (context != null) {
            Jmx.register(context, new ManagedCircuits(this, backend), ManagedCircuits.TYPE, backend);
        }
    }

    private CircuitBreaker.State worst(String backend) {
        Backend of = backends.get(backend);
        CircuitBreaker.State worst = CircuitBreaker.State.CLOSED;
        if (of != null) {
            if (of.forcedOpen) {
                return CircuitBreaker.State.FORCED_OPEN;
            }
            for (Circuit circuit : of.circuits.values()) {
                CircuitBreaker.State state = circuit.breaker.getState();
                if (rank(state) > rank(worst)) {
                    worst = state;
                }
            }
        }
        return worst;
    }

    private static int rank(CircuitBreaker.State state) {
        return switch (state) {
            case CLOSED -> 0;
            case METRICS_ONLY, DISABLED -> 1;
            case HALF_OPEN -> 2;
            case OPEN, FORCED_OPEN -> 3;
        };
    }

    private String modelOf(ModelRoute route) {
        return perModel && route.upstreamModel() != null ? route.upstreamModel() : WHOLE;
    }

    private Circuit existing(ModelRoute route) {
        Backend backend = backends.get(route.backendName());
        if (backend == null) {
            return null;
        }
        String model = modelOf(route);
        Circuit circuit = backend.circuits.get(model);
        if (circuit != null || !model.isEmpty() && backend.circuits.size() < maxModels) {
            return circuit; // none yet: the model's own circuit, when made, starts closed
        }
        return backend.circuits.get(WHOLE);
    }

    private Circuit circuit(ModelRoute route) {
        Backend backend = backend(route.backendName());
        String model = modelOf(route);
        Circuit circuit = backend.circuits.get(model);
        if (circuit != null) {
            return circuit;
        }
        if (!model.isEmpty() && backend.circuits.size() >= maxModels) {
            model = WHOLE; // a bounded set: the models past the cap share the backend's circuit
        }
        String name = route.backendName();
        String key = model;
        return backend.circuits.computeIfAbsent(key, m -> create(name, m, backend.breakerConfig(route.backend()),
                backend.forcedOpen));
    }

    private Backend backend(String name) {
        Backend backend = backends.get(name);
        if (backend != null) {
            return backend;
        }
        Backend made = new Backend();
        Backend before = backends.putIfAbsent(name, made);
        if (before != null) {
            return before;
        }
        gauges(name);
        mbean(name);
        return made;
    }

    private Circuit create(String backend, String model, CircuitBreakerConfig config, boolean forcedOpen) {
        String label = model.isEmpty() ? "backend '" + backend + "'" : "model '" + model + "' of backend '" + backend + "'";
        CircuitBreaker breaker = registry.circuitBreaker(model.isEmpty() ? backend : backend + "/" + model, config);
        Circuit circuit = new Circuit(breaker, model, config.getWaitIntervalFunctionInOpenState().apply(1));
        breaker.getEventPublisher().onStateTransition(event -> {
            switch (event.getStateTransition().getToState()) {
                case OPEN -> opened(label, circuit);
                case HALF_OPEN -> LOG.info("Circuit of {} half-open: probing it with {} calls", label,
                        breaker.getCircuitBreakerConfig().getPermittedNumberOfCallsInHalfOpenState());
                case CLOSED -> LOG.info("Circuit of {} closed: calls flow again", label);
                default -> LOG.info("Circuit of {}: {}", label, event.getStateTransition());
            }
        });
        // the breaker already publishes its events (for the transitions above): keeping its errors costs a ring slot
        breaker.getEventPublisher().onError(event -> recentErrors.record(backend, model, event.getThrowable()));
        if (forcedOpen) {
            breaker.transitionToForcedOpenState(); // made while an operator holds its backend open
        }
        return circuit;
    }

    private void opened(String label, Circuit circuit) {
        long openedAt = System.nanoTime();
        circuit.openedAtNanos = openedAt;
        CircuitBreaker.Metrics metrics = circuit.breaker.getMetrics();
        LOG.warn("Circuit of {} opened (failure rate {}%, slow calls {}%): its calls fail fast for {} ms",
                label, metrics.getFailureRate(), metrics.getSlowCallRate(), circuit.openWaitMillis);
        vertx.setTimer(Math.max(1, circuit.openWaitMillis), id -> {
            if (circuit.openedAtNanos == openedAt && circuit.breaker.getState() == CircuitBreaker.State.OPEN) {
                try {
                    circuit.breaker.transitionToHalfOpenState();
                } catch (RuntimeException e) {
                    LOG.debug("Circuit of {} not half-opened: {}", label, e.toString()); // a call got there first
                }
            }
        });
    }

    /** Forced open shows as open in the gauge, whose label set stays closed / open / half_open. */
    private static CircuitBreaker.State plain(CircuitBreaker.State state) {
        return state == CircuitBreaker.State.FORCED_OPEN ? CircuitBreaker.State.OPEN : state;
    }

    private void gauges(String backend) {
        MeterRegistry registry = meters;
        if (registry == null) {
            return;
        }
        for (CircuitBreaker.State state : List.of(CircuitBreaker.State.CLOSED, CircuitBreaker.State.OPEN,
                CircuitBreaker.State.HALF_OPEN)) {
            Gauge.builder(GAUGE, this, breakers -> plain(breakers.worst(backend)) == state ? 1 : 0)
                    .tags("backend", backend, "state", state.name().toLowerCase(Locale.ROOT))
                    .description("1 for the state the backend's circuit breakers are in (the worst of its models)")
                    .register(registry);
        }
    }

    private void remove(String name) {
        Backend backend = backends.remove(name);
        recentErrors.forget(name);
        if (backend != null) {
            backend.circuits.values().forEach(c -> registry.remove(c.breaker.getName()));
        }
        CamelContext context = camel;
        if (context != null) {
            Jmx.unregister(context, ManagedCircuits.TYPE, name);
        }
        MeterRegistry registry = meters;
        if (registry != null) {
            for (Meter meter : List.copyOf(registry.getMeters())) {
                if (meter.getId().getName().equals(GAUGE) && name.equals(meter.getId().getTag("backend"))) {
                    registry.remove(meter);
                }
            }
        }
    }

    /** The circuits of one backend, by upstream model ("" for the backend as a whole). */
    private static final class Backend {
        final Map<String, Circuit> circuits = new ConcurrentHashMap<>();
        volatile BackendConfig config;
        volatile CircuitBreakerConfig breakerConfig;
        /** An operator forced the backend open (JMX): its circuits, those made later too, refuse every call. */
        volatile boolean forcedOpen;

        void configure(BackendConfig config) {
            this.config = config;
            this.breakerConfig = configOf(settingsOf(config));
        }

        /** The breakers' settings, made once per configuration; {@code route} says them until apply() has run. */
        CircuitBreakerConfig breakerConfig(BackendConfig route) {
            CircuitBreakerConfig made = breakerConfig;
            return made != null ? made : configOf(settingsOf(route));
        }

        private static CircuitBreakerSettings settingsOf(BackendConfig config) {
            return config == null || config.circuitBreaker() == null ? CircuitBreakerSettings.BUILT_IN
                    : config.circuitBreaker();
        }
    }

    private static final class Circuit {
        final CircuitBreaker breaker;
        final String model;
        final long openWaitMillis;
        volatile long openedAtNanos;

        Circuit(CircuitBreaker breaker, String model, long openWaitMillis) {
            this.breaker = breaker;
            this.model = model;
            this.openWaitMillis = openWaitMillis;
        }

        /** Whole seconds until this open circuit half-opens (at least 1). */
        long retryAfterSeconds() {
            if (breaker.getState() != CircuitBreaker.State.OPEN) {
                return 1;
            }
            long leftNanos = openedAtNanos + openWaitMillis * 1_000_000L - System.nanoTime();
            return Math.max(1, (leftNanos + 999_999_999L) / 1_000_000_000L);
        }
    }
}
