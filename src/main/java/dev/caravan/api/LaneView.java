package dev.caravan.api;

import java.util.Map;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.config.BackendConfig;
import dev.caravan.config.LiveConfig;
import dev.caravan.config.Priority;
import dev.caravan.lane.LaneGate;
import dev.caravan.lane.LaneRegistry;
import dev.caravan.openai.Json;
import dev.caravan.resilience.CircuitBreakers;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/** GET /v1/lanes: each backend's lane as it is now: slots, in flight, waiting by priority, recent waits. */
public final class LaneView implements Processor {

    private final LiveConfig config;
    private final LaneRegistry lanes;
    private final CircuitBreakers circuits;

    public LaneView(LiveConfig config, LaneRegistry lanes, CircuitBreakers circuits) {
        this.config = config;
        this.lanes = lanes;
        this.circuits = circuits;
    }

    @Override
    public void process(Exchange exchange) {
        ObjectNode list = Json.object();
        list.put("object", "list");
        ArrayNode data = list.putArray("data");
        Map<String, LaneGate> gates = lanes.gates();
        config.config().backends().forEach((name, backend) -> {
            LaneGate gate = gates.get(name);
            if (gate != null) {
                ObjectNode lane = lane(name, backend, gate).put("circuit", circuits.state(name));
                circuits.openModels(name).forEach(lane.putObject("circuit_models")::put);
                data.add(lane);
            }
        });
        exchange.getMessage().setBody(list);
    }

    static ObjectNode lane(String name, BackendConfig backend, LaneGate gate) {
        ObjectNode lane = Json.object();
        lane.put("object", "lane");
        lane.put("backend", name);
        lane.put("type", backend.backendType().routeName());
        lane.put("max_concurrent", gate.maxConcurrent());
        lane.put("in_flight", gate.inFlight());
        ObjectNode waiting = lane.putObject("waiting");
        for (Priority priority : Priority.values()) {
            waiting.put(priority.name().toLowerCase(java.util.Locale.ROOT), gate.waiting(priority));
        }
        waiting.put("total", gate.waiting());
        // the gate's limits, which JMX may have changed since gateway.yaml was read
        lane.put("queue_size", gate.queueSize());
        lane.put("queue_timeout_seconds", gate.queueTimeoutSeconds());
        lane.put("paused", gate.paused());
        lane.put("admitted", gate.getAdmitted());
        lane.put("rejected", gate.getRejected());
        ObjectNode wait = lane.putObject("wait_ms");
        wait.put("p50", gate.waitPercentileMillis(0.50));
        wait.put("p99", gate.waitPercentileMillis(0.99));
        return lane;
    }
}
