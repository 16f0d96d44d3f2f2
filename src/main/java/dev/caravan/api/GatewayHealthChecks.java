package dev.caravan.api;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import dev.caravan.lane.LaneGate;
import dev.caravan.lane.LaneRegistry;
import dev.caravan.resilience.CircuitBreakers;
import dev.caravan.resilience.RecentErrors;
import dev.caravan.state.RedisConnection;
import dev.caravan.state.RedisTimeout;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.apache.camel.CamelContext;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.health.HealthCheckRepository;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;
import org.apache.camel.support.LifecycleStrategySupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Caravan's checks in Camel's health-check registry, so they show wherever Camel's do: the management port's
 * {@code /observe/health} (all), {@code /observe/health/ready} and {@code /observe/health/live}, the dev console's
 * health page and JMX.
 * <ul>
 *   <li>{@code caravan:gateway} (readiness): DOWN while the gateway starts and from the moment it drains (SIGTERM),
 *       so Kubernetes stops sending before the routes stop. The one Caravan check of the readiness probe by
 *       default.</li>
 *   <li>{@code caravan:lane:<backend>}: DOWN while the lane is paused (JMX) or its queue is full.</li>
 *   <li>{@code caravan:backend:<backend>}: passive, from the calls that ran (never a call of its own): DOWN while its
 *       circuit is open, with the last failures its breaker counted.</li>
 *   <li>{@code caravan:redis} (with REDIS_URL): a PING within gateway.health-redis-timeout-ms.</li>
 * </ul>
 * Lanes, backends and Redis are shared causes: a backend down or Redis unreachable is so for every replica, and
 * taking them all out of the Service would turn one bad backend into a whole outage. So by default they count in
 * {@code /observe/health} (and its 503) for dashboards and alerts, not in the probes; gateway.health.backends-in-readiness
 * puts them in the readiness probe too. None is a liveness check: a restart mends none of them.
 */
public final class GatewayHealthChecks implements HealthCheckRepository {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayHealthChecks.class);
    static final String GROUP = "caravan";

    private final LaneRegistry lanes;
    private final CircuitBreakers circuits;
    private final boolean sharedInReadiness;
    private final HealthCheck gateway;
    private final HealthCheck redis;
    private final Map<String, HealthCheck> laneChecks = new ConcurrentHashMap<>();
    private final Map<String, HealthCheck> backendChecks = new ConcurrentHashMap<>();
    private boolean enabled = true;

    public GatewayHealthChecks(StartupGate startup, LaneRegistry lanes, CircuitBreakers circuits, RedisConnection redis,
                               Vertx vertx, long redisTimeoutMillis, boolean sharedInReadiness) {
        this.lanes = lanes;
        this.circuits = circuits;
        this.sharedInReadiness = sharedInReadiness;
        this.gateway = new Check("gateway", true) {
            @Override
            protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
                if (startup.ready()) {
                    builder.up();
                } else {
                    builder.message(startup.starting() ? "starting" : "draining: no new requests").down();
                }
            }
        };
        this.redis = redis == null ? null : new RedisCheck(redis, vertx, redisTimeoutMillis);
    }

    /** Registers the checks with the context's health-check registry as it starts (none without camel-health). */
    public void attach(CamelContext camel) {
        camel.addLifecycleStrategy(new LifecycleStrategySupport() {
            @Override
            public void onContextStarting(CamelContext context) {
                HealthCheckRegistry registry = HealthCheckRegistry.get(context);
                if (registry == null) {
                    LOG.info("No health-check registry (camel.health.enabled=false): Caravan's checks are off");
                    return;
                }
                registry.register(GatewayHealthChecks.this);
            }
        });
    }

    @Override
    public String getId() {
        return GROUP;
    }

    @Override
    public boolean isEnabled() {
        return enabled;
    }

    @Override
    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    @Override
    public Stream<HealthCheck> stream() {
        Map<String, LaneGate> gates = lanes.gates();
        laneChecks.keySet().retainAll(gates.keySet());
        backendChecks.keySet().retainAll(gates.keySet());
        Stream.Builder<HealthCheck> checks = Stream.builder();
        checks.add(gateway);
        gates.forEach((name, gate) -> {
            checks.add(laneChecks.computeIfAbsent(name, n -> new LaneCheck(n)));
            checks.add(backendChecks.computeIfAbsent(name, n -> new BackendCheck(n)));
        });
        if (redis != null) {
            checks.add(redis);
        }
        return checks.build();
    }

    /** A check of group caravan, id caravan:&lt;what&gt;; none is a liveness check. */
    private abstract static class Check extends AbstractHealthCheck {
        private final boolean readiness;

        Check(String id, boolean readiness) {
            super(GROUP, GROUP + ":" + id);
            this.readiness = readiness;
        }

        @Override
        public boolean isLiveness() {
            return false;
        }

        @Override
        public boolean isReadiness() {
            return readiness;
        }
    }

    private final class LaneCheck extends Check {
        private final String backend;

        LaneCheck(String backend) {
            super("lane:" + backend, sharedInReadiness);
            this.backend = backend;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            LaneGate gate = lanes.gates().get(backend);
            if (gate == null) {
                builder.message("no lane (backend removed)").down();
                return;
            }
            builder.detail("max_concurrent", gate.maxConcurrent());
            builder.detail("in_flight", gate.inFlight());
            builder.detail("waiting", gate.waiting());
            builder.detail("queue_size", gate.queueSize());
            builder.detail("paused", gate.paused());
            if (gate.paused()) {
                builder.message("paused: new requests wait (JMX resume() admits them)").down();
            } else if (gate.waiting() >= gate.queueSize()) {
                builder.message("saturated: the queue is full, new requests get 503").down();
            } else {
                builder.up();
            }
        }
    }

    private final class BackendCheck extends Check {
        private final String backend;

        BackendCheck(String backend) {
            super("backend:" + backend, sharedInReadiness);
            this.backend = backend;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            String state = circuits.state(backend);
            builder.detail("circuit", state);
            circuits.openModels(backend).forEach((model, s) -> builder.detail("circuit_model." + model, s));
            List<RecentErrors.Entry> recent = circuits.recentErrors().of(backend);
            builder.detail("recent_errors", recent.size());
            if (!recent.isEmpty()) {
                RecentErrors.Entry last = recent.get(0);
                builder.detail("last_error", last.code() + " (" + last.status() + ") at " + last.time());
            }
            if (state.contains("open") && !state.startsWith("half")) {
                builder.message("circuit " + state + ": calls fail fast with 503 circuit_open").down();
            } else {
                builder.up();
            }
        }
    }

    /**
     * A PING, bounded by its timeout. Probes come on a worker thread of the management server and wait for it; a
     * caller on an event loop (which must not block) gets the last answer instead.
     */
    private final class RedisCheck extends Check {
        private final RedisConnection redis;
        private final Vertx vertx;
        private final long timeoutMillis;
        private volatile Boolean lastUp;

        RedisCheck(RedisConnection redis, Vertx vertx, long timeoutMillis) {
            super("redis", sharedInReadiness);
            this.redis = redis;
            this.vertx = vertx;
            this.timeoutMillis = timeoutMillis;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            var ping = RedisTimeout.bound(vertx, redis.ping(), timeoutMillis, "PING").otherwise(false)
                    .onSuccess(up -> lastUp = up);
            Boolean up = lastUp;
            if (!Context.isOnEventLoopThread()) {
                try {
                    up = ping.toCompletionStage().toCompletableFuture().get(timeoutMillis + 250, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    up = false;
                } catch (Exception e) {
                    up = false;
                }
            }
            builder.detail("timeout_ms", timeoutMillis);
            if (Boolean.TRUE.equals(up)) {
                builder.up();
            } else {
                builder.message(up == null ? "not checked yet" : "unreachable: no PONG within " + timeoutMillis + " ms")
                        .down();
            }
        }
    }
}
