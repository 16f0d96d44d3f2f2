package dev.caravan.api;

import java.util.Map;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.config.BackendConfig;
import dev.caravan.config.LiveConfig;
import dev.caravan.config.RouteReloadFailures;
import dev.caravan.lane.LaneGate;
import dev.caravan.lane.LaneRegistry;
import dev.caravan.openai.Json;
import dev.caravan.resilience.CircuitBreakers;
import dev.caravan.state.RedisConnection;
import dev.caravan.state.RedisTimeout;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * GET /health: the gateway's own state, each backend's state and circuit and, with REDIS_URL, whether Redis answers
 * a PING within its timeout. Never calls an upstream, and never waits on Redis longer than the timeout, so a slow
 * backend or a stalled Redis cannot slow it down. "degraded" (still 200) when Redis does not answer or a route file
 * edit was refused (the file and reason are listed until a later edit of it loads); "starting" until the gateway
 * serves. Backend details (type, URL without credentials, lane figures) only for the admin key: anyone may call
 * /health, and URLs tell an outsider where the upstreams are.
 */
public final class HealthReport extends AsyncProcessorSupport {

    private final LiveConfig config;
    private final LaneRegistry lanes;
    private final RedisConnection redis;
    private final CircuitBreakers circuits;
    private final RouteReloadFailures reloadFailures;
    private final StartupGate startup;
    private final Predicate<Exchange> admin;
    private final Vertx vertx;
    private final long redisTimeoutMillis;

    public HealthReport(LiveConfig config, LaneRegistry lanes, RedisConnection redis, CircuitBreakers circuits,
                        RouteReloadFailures reloadFailures, StartupGate startup, Predicate<Exchange> admin,
                        Vertx vertx, long redisTimeoutMillis) {
        this.config = config;
        this.lanes = lanes;
        this.redis = redis;
        this.circuits = circuits;
        this.reloadFailures = reloadFailures;
        this.startup = startup;
        this.admin = admin;
        this.vertx = vertx;
        this.redisTimeoutMillis = redisTimeoutMillis;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        boolean details = admin.test(exchange);
        redisUp().onComplete(ar -> {
            exchange.getMessage().setBody(report(ar.result(), details));
            callback.done(false);
        });
        return false;
    }

    /** True, false, or null without Redis; false when the PING did not answer within the timeout. */
    private Future<Boolean> redisUp() {
        if (redis == null) {
            return Future.succeededFuture(null);
        }
        return RedisTimeout.bound(vertx, redis.ping(), redisTimeoutMillis, "PING").otherwise(false);
    }

    private ObjectNode report(Boolean redisUp, boolean details) {
        ObjectNode health = Json.object();
        boolean reloadRefused = !reloadFailures.standing().isEmpty();
        health.put("status", startup.starting() ? "starting"
                : Boolean.FALSE.equals(redisUp) || reloadRefused ? "degraded" : "ok");
        ObjectNode backends = health.putObject("backends");
        Map<String, LaneGate> gates = lanes.gates();
        config.config().backends().forEach((name, backend) -> {
            LaneGate gate = gates.get(name);
            ObjectNode node = backends.putObject(name);
            if (details) {
                node.put("type", backend.backendType().routeName());
                if (backend.url() != null) {
                    node.put("url", withoutCredentials(backend.url()));
                }
            }
            // a lane's limits and pause are its gate's: JMX may have changed them since gateway.yaml was read
            node.put("status", gate == null ? "starting" : gate.paused() ? "paused"
                    : gate.waiting() >= gate.queueSize() ? "saturated" : "ok");
            node.put("circuit", circuits.state(name));
            // the upstream models whose own circuit is not closed (circuits are per backend and model)
            circuits.openModels(name).forEach(node.putObject("circuit_models")::put);
            if (details) {
                lane(node.putObject("lane"), backend, gate);
            }
        });
        ObjectNode state = health.putObject("state");
        state.put("store", redis == null ? "memory" : "redis");
        if (redis != null) {
            state.put("redis", redisUp ? "ok" : "unreachable");
        }
        if (reloadRefused) {
            ArrayNode refused = health.putObject("routes").putArray("reload_failures");
            for (RouteReloadFailures.Failure failure : reloadFailures.standing()) {
                ObjectNode entry = refused.addObject().put("file", failure.file());
                if (failure.line() > 0) {
                    entry.put("line", failure.line());
                }
                entry.put("reason", failure.reason());
            }
        }
        return health;
    }

    private static void lane(ObjectNode lane, BackendConfig backend, LaneGate gate) {
        lane.put("max_concurrent", gate == null ? backend.maxConcurrent() : gate.maxConcurrent());
        lane.put("in_flight", gate == null ? 0 : gate.inFlight());
        lane.put("waiting", gate == null ? 0 : gate.waiting());
        lane.put("queue_size", gate == null ? backend.queueSize() : gate.queueSize());
        lane.put("paused", gate != null && gate.paused());
    }

    /**
     * "http://user:secret@host:8000/v1?key=k" as "http://host:8000/v1": credentials in a URL (user info, or a key in
     * the query) never leave the gateway.
     */
    static String withoutCredentials(String url) {
        int scheme = url.indexOf("://");
        int hostStart = scheme < 0 ? 0 : scheme + 3;
        int pathStart = url.indexOf('/', hostStart);
        int hostEnd = pathStart < 0 ? url.length() : pathStart;
        int at = url.lastIndexOf('@', hostEnd - 1);
        String bare = at >= hostStart ? url.substring(0, hostStart) + url.substring(at + 1) : url;
        int query = bare.indexOf('?');
        return query < 0 ? bare : bare.substring(0, query);
    }
}
