package dev.caravan.api;

import java.util.Map;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.config.BackendConfig;
import dev.caravan.config.LiveConfig;
import dev.caravan.lane.LaneGate;
import dev.caravan.lane.LaneRegistry;
import dev.caravan.openai.Json;
import dev.caravan.resilience.CircuitBreakers;
import dev.caravan.state.RedisConnection;
import io.vertx.core.Future;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * GET /health: the gateway's own state, each backend's lane (slots in use, requests waiting) and, with
 * REDIS_URL, whether Redis answers a PING. Never calls an upstream, so a slow backend cannot slow it down;
 * "degraded" (still 200) when Redis does not answer.
 */
public final class HealthReport extends AsyncProcessorSupport {

    private final LiveConfig config;
    private final LaneRegistry lanes;
    private final RedisConnection redis;
    private final CircuitBreakers circuits;

    public HealthReport(LiveConfig config, LaneRegistry lanes, RedisConnection redis, CircuitBreakers circuits) {
        this.config = config;
        this.lanes = lanes;
        this.redis = redis;
        this.circuits = circuits;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        Future<Boolean> redisUp = redis == null ? Future.succeededFuture(null) : redis.ping();
        redisUp.onComplete(ar -> {
            ObjectNode health = Json.object();
            Boolean up = ar.result();
            health.put("status", up == null || up ? "ok" : "degraded");
            ObjectNode backends = health.putObject("backends");
            Map<String, LaneGate> gates = lanes.gates();
            config.config().backends().forEach((name, backend) -> {
                ObjectNode node = backend(backend, gates.get(name)).put("circuit", circuits.state(name));
                circuits.openModels(name).forEach(node.putObject("circuit_models")::put);
                backends.set(name, node);
            });
            ObjectNode state = health.putObject("state");
            state.put("store", redis == null ? "memory" : "redis");
            if (redis != null) {
                state.put("redis", up ? "ok" : "unreachable");
            }
            exchange.getMessage().setBody(health);
            callback.done(false);
        });
        return false;
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
