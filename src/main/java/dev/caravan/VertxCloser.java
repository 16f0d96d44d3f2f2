package dev.caravan;

import dev.caravan.api.ServerScaleOut;
import dev.caravan.backend.Upstreams;
import dev.caravan.config.LiveConfig;
import dev.caravan.state.RedisConnection;
import io.vertx.core.Vertx;
import org.apache.camel.support.service.ServiceSupport;

/** Closes what the gateway opened itself when Camel stops: the config watcher, upstream pools, Vert.x. */
final class VertxCloser extends ServiceSupport {

    private final Vertx vertx;
    private final Upstreams upstreams;
    private final LiveConfig config;
    private final ServerScaleOut scaleOut;
    private final RedisConnection redis;

    VertxCloser(Vertx vertx, Upstreams upstreams, LiveConfig config, ServerScaleOut scaleOut, RedisConnection redis) {
        this.redis = redis;
        this.scaleOut = scaleOut;
        this.vertx = vertx;
        this.upstreams = upstreams;
        this.config = config;
    }

    @Override
    protected void doStop() {
        scaleOut.stop();
        config.stopWatching(vertx);
        upstreams.close();
        if (redis != null) {
            redis.close();
        }
        vertx.close();
    }
}
