package dev.caravan.api;

import java.util.ArrayList;
import java.util.List;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spreads the platform-http server over several event loops. Camel starts one Vert.x HttpServer, so every
 * connection lands on one event loop and the gateway uses one core however many it has. Vert.x shares a port
 * between servers opened on different event loops and deals connections out round-robin, so more servers
 * with the same request handler (Camel's router) put the other cores to work.
 */
public final class ServerScaleOut {

    private static final Logger LOG = LoggerFactory.getLogger(ServerScaleOut.class);

    private final List<HttpServer> extra = new ArrayList<>();

    public void start(CamelContext camel, Vertx vertx, int instances, String host) {
        VertxPlatformHttpServer platform = null;
        for (VertxPlatformHttpRouter router : camel.getRegistry().findByType(VertxPlatformHttpRouter.class)) {
            if (!router.isManagementServer() && router.getServer() != null) {
                platform = router.getServer();
            }
        }
        if (platform == null || platform.getServer() == null || instances <= 1) {
            LOG.warn("The HTTP server stays on one event loop: no platform-http server found to scale out");
            return;
        }
        HttpServer main = platform.getServer();
        int port = main.actualPort();
        for (int i = 1; i < instances; i++) {
            // created from this (non-Vert.x) thread, each server gets the next event loop
            HttpServer server = vertx.createHttpServer(new HttpServerOptions()).requestHandler(main.requestHandler());
            server.listen(port, host).toCompletionStage().toCompletableFuture().join();
            extra.add(server);
        }
        LOG.info("HTTP server on {} event loops", instances);
    }

    public void stop() {
        extra.forEach(HttpServer::close);
        extra.clear();
    }
}
