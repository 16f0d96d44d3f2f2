package dev.caravan.api;

import java.util.Map;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.config.BackendConfig;
import dev.caravan.config.LiveConfig;
import dev.caravan.lane.LaneGate;
import dev.caravan.lane.LaneRegistry;
import dev.caravan.openai.Json;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * GET /health: the gateway's own state and each backend's lane (slots in use, requests waiting). Answers
 * from memory, never from an upstream call, so a slow backend cannot make the health check slow.
 */
public final class HealthReport implements Processor {

    private final LiveConfig config;
    private final LaneRegistry lanes;

    public HealthReport(LiveConfig config, LaneRegistry lanes) {
        this.config = config;
        this.lanes = lanes;
    }

    @Override
    public void process(Exchange exchange) {
        ObjectNode health = Json.object();
        health.put("status", "ok");
        ObjectNode backends = health.putObject("backends");
        Map<String, LaneGate> gates = lanes.gates();
        config.config().backends().forEach((name, backend) -> backends.set(name, backend(backend, gates.get(name))));
        health.putObject("state").put("store", "memory");
        exchange.getMessage().setBody(health);
    }

    private static ObjectNode backend(BackendConfig backend, LaneGate gate) {
        ObjectNode node = Json.object();
        node.put("type", backend.backendType().routeName());
        if (backend.url() != null) {
            node.put("url", backend.url());
        }
        node.put("status", gate == null ? "starting" : gate.waiting() >= backend.queueSize() ? "saturated" : "ok");
        ObjectNode lane = node.putObject("lane");
        lane.put("max_concurrent", backend.maxConcurrent());
        lane.put("in_flight", gate == null ? 0 : gate.inFlight());
        lane.put("waiting", gate == null ? 0 : gate.waiting());
        lane.put("queue_size", backend.queueSize());
        return node;
    }
}
