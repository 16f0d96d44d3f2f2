package dev.caravan.lane;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

import dev.caravan.config.BackendConfig;
import dev.caravan.config.ModelCatalog;
import dev.caravan.exchange.Jmx;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.TemplatedRouteBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One lane per backend: a {@link LaneGate} bound as {@code laneGate-<backend>} (the acquire step), its release
 * step bound as {@code laneRelease-<backend>}, and a route {@code lane-<backend>} made from the {@code lane} route
 * template of routes/. Follows gateway.yaml: new backends get a lane, removed
 * ones lose theirs, changed limits apply in place.
 */
public final class LaneRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(LaneRegistry.class);
    public static final String TEMPLATE = "lane";

    private final CamelContext camel;
    private final Vertx vertx;
    private final Map<String, Lane> lanes = new ConcurrentHashMap<>();
    private final Function<String, String> circuitState;

    /** @param circuitState a backend's circuit state, for the lane's JMX attribute */
    public LaneRegistry(CamelContext camel, Vertx vertx, Function<String, String> circuitState) {
        this.camel = camel;
        this.vertx = vertx;
        this.circuitState = circuitState;
    }

    public Map<String, LaneGate> gates() {
        Map<String, LaneGate> gates = new java.util.TreeMap<>();
        lanes.forEach((name, lane) -> gates.put(name, lane.gate));
        return gates;
    }

    public synchronized void apply(ModelCatalog catalog) {
        Map<String, BackendConfig> backends = catalog.config().backends();
        for (String name : lanes.keySet()) {
            BackendConfig next = backends.get(name);
            if (next == null || next.backendType() != lanes.get(name).config.backendType()) {
                remove(name);
            }
        }
        backends.forEach((name, config) -> {
            Lane lane = lanes.get(name);
            if (lane == null) {
                add(name, config);
            } else {
                lane.gate.configure(config);
                lanes.put(name, new Lane(config, lane.gate));
            }
        });
    }

    private void add(String name, BackendConfig config) {
        LaneGate gate = new LaneGate(name, config, vertx);
        gate.circuitStateFrom(circuitState);
        camel.getRegistry().bind("laneGate-" + name, gate);
        camel.getRegistry().bind("laneRelease-" + name, gate.releaser());
        try {
            TemplatedRouteBuilder.builder(camel, TEMPLATE)
                    .routeId("lane-" + name)
                    .parameter("backend", name)
                    .parameter("type", config.backendType().routeName())
                    .add();
        } catch (Exception e) {
            throw new IllegalStateException("The lane of backend '" + name + "' could not be created", e);
        }
        lanes.put(name, new Lane(config, gate));
        observe(name, gate);
        LOG.info("Lane lane-{} ready: {} backend, max-concurrent {}, queue-size {}", name,
                config.backendType().routeName(), config.maxConcurrent(), config.queueSize());
    }

    private void remove(String name) {
        lanes.remove(name);
        try {
            // stopRoute waits (up to the shutdown timeout) for the lane's in-flight exchanges to finish
            camel.getRouteController().stopRoute("lane-" + name);
            camel.removeRoute("lane-" + name);
        } catch (Exception e) {
            LOG.warn("The lane of removed backend '{}' could not be removed: {}", name, e.toString());
        }
        camel.getRegistry().unbind("laneGate-" + name);
        camel.getRegistry().unbind("laneRelease-" + name);
        unobserve(name);
        LOG.info("Lane lane-{} removed", name);
    }

    /** Lane state in JMX (org.apache.camel:context=…,type=lanes,name=<backend>) and as Prometheus gauges. */
    private void observe(String name, LaneGate gate) {
        Jmx.register(camel, gate, "lanes", name);
        MeterRegistry meters = camel.getRegistry().findSingleByType(MeterRegistry.class);
        if (meters != null) {
            Gauge.builder("caravan.lane.in.flight", gate, LaneGate::inFlight).tag("backend", name)
                    .description("Upstream calls in flight").register(meters);
            Gauge.builder("caravan.lane.waiting", gate, LaneGate::waiting).tag("backend", name)
                    .description("Requests waiting for a slot").register(meters);
            Gauge.builder("caravan.lane.max.concurrent", gate, LaneGate::maxConcurrent).tag("backend", name)
                    .description("Slots of the lane").register(meters);
            Gauge.builder("caravan.lane.wait.p99.ms", gate, g -> g.waitPercentileMillis(0.99)).tag("backend", name)
                    .description("99th percentile queue wait of the last 1024 admissions").register(meters);
        }
    }

    private void unobserve(String name) {
        Jmx.unregister(camel, "lanes", name);
        MeterRegistry meters = camel.getRegistry().findSingleByType(MeterRegistry.class);
        if (meters != null) {
            meters.getMeters().stream()
                    .filter(m -> m.getId().getName().startsWith("caravan.lane.") && name.equals(m.getId().getTag("backend")))
                    .forEach(meters::remove);
        }
    }

    private record Lane(BackendConfig config, LaneGate gate) {
    }
}
