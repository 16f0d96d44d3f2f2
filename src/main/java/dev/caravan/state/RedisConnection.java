package dev.caravan.state;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.RedisOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Redis that holds shared state when REDIS_URL is set (limits, task queue, task states, DLQ), so several
 * gateway instances act as one. Non-blocking, pooled, on the gateway's own Vert.x event loops.
 */
public final class RedisConnection {

    private static final Logger LOG = LoggerFactory.getLogger(RedisConnection.class);

    private final Redis client;
    private final RedisAPI api;
    private final String url;

    public RedisConnection(Vertx vertx, String url) {
        this.url = url;
        this.client = Redis.createClient(vertx, new RedisOptions()
                .setConnectionString(url)
                .setMaxPoolSize(32)
                .setMaxPoolWaiting(4096)
                .setMaxWaitingHandlers(65536));
        this.api = RedisAPI.api(client);
        LOG.info("Shared state in Redis at {}", redacted(url));
    }

    public RedisAPI api() {
        return api;
    }

    /** PING, false when it fails: for /health (which bounds the wait), never for a request's path. */
    public Future<Boolean> ping() {
        return api.ping(java.util.List.of()).map(r -> true).otherwise(false);
    }

    public void close() {
        client.close();
    }

    /** The URL without its password, for logs. */
    static String redacted(String url) {
        return url.replaceAll("//[^@/]*@", "//***@");
    }

    @Override
    public String toString() {
        return "Redis " + redacted(url);
    }
}
