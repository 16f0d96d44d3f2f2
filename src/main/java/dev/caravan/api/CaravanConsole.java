package dev.caravan.api;

import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.config.LiveConfig;
import dev.caravan.lane.LaneGate;
import dev.caravan.lane.LaneRegistry;
import dev.caravan.openai.Json;
import dev.caravan.resilience.CircuitBreakers;
import dev.caravan.resilience.RecentErrors;
import org.apache.camel.CamelContext;
import org.apache.camel.console.DevConsoleRegistry;
import org.apache.camel.support.LifecycleStrategySupport;
import org.apache.camel.support.console.AbstractDevConsole;

/**
 * The dev console's Caravan page ({@code /q/dev/caravan} on the management port): each lane (slots, in flight,
 * waiting by priority, queue, paused, wait p50/p99), each backend (type, circuit state, circuits by model) and the
 * last failures its circuit breaker counted. Read from the gateway's own state, the same figures as GET /v1/lanes
 * and JMX; it calls nothing.
 */
public final class CaravanConsole extends AbstractDevConsole {

    private final LiveConfig config;
    private final LaneRegistry lanes;
    private final CircuitBreakers circuits;
    private final StartupGate startup;

    public CaravanConsole(LiveConfig config, LaneRegistry lanes, CircuitBreakers circuits, StartupGate startup) {
        super("caravan", "caravan", "Caravan", "Lanes, backends, circuit states and recent upstream errors");
        this.config = config;
        this.lanes = lanes;
        this.circuits = circuits;
        this.startup = startup;
    }

    /** Adds the page to the context's dev-console registry as it starts (none when the console is off). */
    public void attach(CamelContext camel) {
        camel.addLifecycleStrategy(new LifecycleStrategySupport() {
            @Override
            public void onContextStarting(CamelContext context) {
                DevConsoleRegistry registry = DevConsoleRegistry.get(context);
                if (registry != null) {
                    setCamelContext(context);
                    registry.register(CaravanConsole.this);
                }
            }
        });
    }

    /** The page as a JSON tree: {"status", "lanes": {...}, "backends": {...}}. */
    ObjectNode report() {
        ObjectNode root = Json.object();
        root.put("status", startup.ready() ? "ready" : startup.starting() ? "starting" : "draining");
        ObjectNode laneNodes = root.putObject("lanes");
        ObjectNode backendNodes = root.putObject("backends");
        Map<String, LaneGate> gates = lanes.gates();
        config.config().backends().forEach((name, backend) -> {
            LaneGate gate = gates.get(name);
            if (gate != null) {
                ObjectNode lane = LaneView.lane(name, backend, gate);
                lane.remove("object");
                laneNodes.set(name, lane);
            }
            ObjectNode node = backendNodes.putObject(name);
            node.put("type", backend.backendType().routeName());
            node.put("circuit", circuits.state(name));
            // by upstream model; "*" is the backend's own circuit (scope backend, or the models past max-models)
            ObjectNode byModel = node.putObject("circuits");
            circuits.states(name).forEach((model, state) -> byModel.put(model.isEmpty() ? "*" : model, state));
            ArrayNode errors = node.putArray("recent_errors");
            for (RecentErrors.Entry e : circuits.recentErrors().of(name)) {
                ObjectNode entry = errors.addObject();
                entry.put("time", e.time().toString());
                entry.put("model", e.model());
                entry.put("status", e.status());
                entry.put("upstream_status", e.upstreamStatus());
                entry.put("code", e.code());
                entry.put("message", e.message());
            }
        });
        return root;
    }

    @Override
    @SuppressWarnings("unchecked")
    protected Map<String, Object> doCallJson(Map<String, Object> options) {
        // the console writes Camel's JsonObject; a plain map of maps and lists serialises the same
        return new org.apache.camel.util.json.JsonObject(Json.MAPPER.convertValue(report(), Map.class));
    }

    @Override
    protected String doCallText(Map<String, Object> options) {
        ObjectNode report = report();
        StringBuilder text = new StringBuilder();
        text.append("Status: ").append(report.path("status").asText()).append("\n\nLanes:\n");
        report.path("lanes").properties().forEach(e -> {
            ObjectNode lane = (ObjectNode) e.getValue();
            text.append(String.format("    %-20s in flight %d/%d  waiting %d/%d  %s  wait p50 %.0f ms p99 %.0f ms%n",
                    e.getKey(), lane.path("in_flight").asInt(), lane.path("max_concurrent").asInt(),
                    lane.path("waiting").path("total").asInt(), lane.path("queue_size").asInt(),
                    lane.path("paused").asBoolean() ? "PAUSED" : "open",
                    lane.path("wait_ms").path("p50").asDouble(), lane.path("wait_ms").path("p99").asDouble()));
        });
        text.append("\nBackends:\n");
        report.path("backends").properties().forEach(e -> {
            text.append(String.format("    %-20s %-8s circuit %s%n", e.getKey(), e.getValue().path("type").asText(),
                    e.getValue().path("circuit").asText()));
            e.getValue().path("circuits").properties().forEach(c -> {
                if (!"closed".equals(c.getValue().asText())) {
                    text.append("        model ").append(c.getKey()).append(": ").append(c.getValue().asText())
                            .append('\n');
                }
            });
            for (JsonNode err : e.getValue().path("recent_errors")) {
                text.append(String.format("        %s %s %d %s %s%n", err.path("time").asText(),
                        err.path("model").asText(), err.path("status").asInt(), err.path("code").asText(),
                        err.path("message").asText()));
            }
        });
        return text.toString();
    }
}
