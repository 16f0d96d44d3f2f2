package dev.caravan.api;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import dev.caravan.openai.OpenAiError;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's HTTP servers: one per event loop, all with the edge's options, serving Camel's platform-http
 * router. Camel starts one Vert.x HttpServer, on one event loop (one core), with default options that cannot be
 * changed once it listens; a connection handler (the {@link ConnectionGuard}) can only be set before. So the
 * gateway opens its own servers on the same host and port (Vert.x shares a port between servers on different
 * event loops and deals connections out round-robin), then closes Camel's: the port stays bound by the others,
 * and every connection from then on gets the same limits.
 * <p>
 * HTTP/1.1 only (h2c upgrade offers are ignored, as vLLM and Ollama do): every connection is then guarded the
 * same way from its first byte.
 */
public final class ServerScaleOut {

    private static final Logger LOG = LoggerFactory.getLogger(ServerScaleOut.class);

    private final List<HttpServer> servers = new ArrayList<>();
    private final AtomicInteger openConnections = new AtomicInteger();

    public void start(CamelContext camel, Vertx vertx, int instances, String host) {
        VertxPlatformHttpServer platform = null;
        for (VertxPlatformHttpRouter router : camel.getRegistry().findByType(VertxPlatformHttpRouter.class)) {
            if (!router.isManagementServer() && router.getServer() != null) {
                platform = router.getServer();
            }
        }
        if (platform == null || platform.getServer() == null) {
            LOG.warn("No platform-http server found: the HTTP edge limits are not applied");
            return;
        }
        EdgeSettings settings = EdgeSettings.of(camel);
        HttpServer camelServer = platform.getServer();
        int port = camelServer.actualPort();
        // exactly where Camel bound (whatever decided the host), so the port is shared, not bound twice
        String bindHost = platform.getHost() != null ? platform.getHost() : host;
        HttpServerOptions options = new HttpServerOptions()
                .setHttp2ClearTextEnabled(false)
                .setTcpNoDelay(true)
                .setIdleTimeout(0); // the ConnectionGuard's phase deadlines instead
        Handler<HttpServerRequest> router = camelServer.requestHandler();
        Handler<HttpServerRequest> requests = request -> {
            if (HttpProtocolErrors.badEscape(request.uri())) {
                HttpProtocolErrors.answer(request, OpenAiError.invalidRequest(null,
                        "The request URL holds a malformed %-escape"));
            } else {
                router.handle(request);
            }
        };
        // one verticle instance per server: each gets an event-loop context of its own. Servers created in a loop
        // from one non-Vert.x thread would all share that thread's sticky context (Vert.x 4.5), so one event loop
        // would serve every connection and the other cores would idle.
        vertx.deployVerticle(() -> new AbstractVerticle() {
            @Override
            public void start(Promise<Void> started) {
                HttpServer server = vertx.createHttpServer(options)
                        .connectionHandler(connection -> ConnectionGuard.attach(connection, settings, openConnections))
                        .invalidRequestHandler(HttpProtocolErrors::answer)
                        .requestHandler(requests);
                synchronized (servers) {
                    servers.add(server);
                }
                server.listen(port, bindHost).<Void>mapEmpty().onComplete(started);
            }
        }, new DeploymentOptions().setInstances(Math.max(1, instances))).toCompletionStage().toCompletableFuture()
                .join();
        camelServer.close().toCompletionStage().toCompletableFuture().join();
        LOG.info("HTTP server on {} event loops; header/body/idle timeouts {}/{}/{} ms, at most {} connections",
                servers.size(), settings.headerTimeoutMs(), settings.bodyTimeoutMs(), settings.idleTimeoutMs(),
                settings.maxConnections());
    }

    /** Connections open now (for tests and diagnostics). */
    public int openConnections() {
        return openConnections.get();
    }

    public void stop() {
        synchronized (servers) {
            servers.forEach(HttpServer::close);
            servers.clear();
        }
    }
}
