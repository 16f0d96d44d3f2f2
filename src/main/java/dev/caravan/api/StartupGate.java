package dev.caravan.api;

import dev.caravan.openai.OpenAiError;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.main.MainHttpServer;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.apache.camel.component.platform.http.vertx.auth.AuthenticationConfig;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.EventNotifierSupport;
import org.apache.camel.support.LifecycleStrategySupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Readiness. The HTTP server listens before the routes exist, and the lanes are made only once the context has
 * fully started: a request in between would get 404 for an endpoint that exists, or reach a half-built pipeline.
 * Until {@link #open()}, a handler placed first on the platform-http router answers everything itself: 503
 * {@code not_ready} with retry-after, {@code /health} {"status":"starting"} (200: the process is alive) and
 * {@code /health/ready} 503. Once open, the first request through removes the handler from the router, so it
 * costs requests nothing after that.
 * <p>
 * Graceful drain, when the gateway stops (SIGTERM, see {@link dev.caravan.CaravanMain}): {@link #closing()} puts a
 * handler first on the router again, which answers {@code /health/ready} 503 {"status":"stopping"} and every new
 * request 503 {@code draining} with retry-after and {@code connection: close} (so clients' pools move to another
 * instance), and lets {@code /health} and {@code /metrics} through; then, before Camel stops the routes, the
 * {@link Drain} gives what is in flight gateway.drain-grace-seconds to finish.
 */
public final class StartupGate {

    private static final Logger LOG = LoggerFactory.getLogger(StartupGate.class);
    private static final String STARTING = "{\"status\":\"starting\"}";
    private static final String STOPPING = "{\"status\":\"stopping\"}";

    private volatile boolean open;
    private volatile boolean closing;
    private CamelContext camel;

    /**
     * Puts the gate on camel-main's HTTP server before it listens. The server makes its router and listens in one
     * step; the one thing it places on the router in between is its authentication handlers, one per configured
     * entry, so the gate goes in as such an entry for every path (it authenticates nothing: it only holds requests
     * back until the gateway is up).
     */
    public void attach(CamelContext camel) {
        this.camel = camel;
        camel.addLifecycleStrategy(new LifecycleStrategySupport() {
            @Override
            public void onContextStarting(CamelContext context) {
                // the drain reaches the requests it must end through their exchanges
                context.getInflightRepository().setInflightBrowseEnabled(true);
                var servers = context.hasServices(MainHttpServer.class);
                if (servers.isEmpty()) {
                    LOG.warn("No platform-http server found: requests during start-up are not held back");
                }
                for (MainHttpServer server : servers) {
                    AuthenticationConfig handlers = server.getConfiguration().getAuthenticationConfig();
                    handlers.getEntries().add(new GateEntry());
                    handlers.setEnabled(true);
                }
            }

            @Override
            public void onContextStopping(CamelContext context) {
                closing(); // first of all, before the routes or the tasks hear of the stop
            }
        });
        // after CamelContextStoppingEvent (the task worker gives its Redis tasks back there), before the routes stop
        Drain drain = new Drain(camel, Long.parseLong(camel.resolvePropertyPlaceholders(
                "{{gateway.drain-grace-seconds:30}}").trim()));
        camel.getManagementStrategy().addEventNotifier(new EventNotifierSupport() {
            @Override
            public void notify(CamelEvent event) {
                drain.await();
            }

            @Override
            public boolean isEnabled(CamelEvent event) {
                return event instanceof CamelEvent.CamelContextRoutesStoppingEvent;
            }
        });
    }

    /** Everything is up: requests reach the routes from now on. */
    public void open() {
        open = true;
        LOG.info("Caravan is ready");
    }

    /** Shutting down: the readiness probe answers 503 so that load balancers stop sending, new requests 503. */
    void closing() {
        if (closing) {
            return;
        }
        closing = true;
        if (!open || camel == null) {
            return; // the start-up gate is still on the router, and answers for the drain
        }
        for (VertxPlatformHttpRouter router : camel.getRegistry().findByType(VertxPlatformHttpRouter.class)) {
            if (!router.isManagementServer()) {
                router.route().order(Integer.MIN_VALUE).handler(this::whileDraining);
            }
        }
        LOG.info("Caravan is draining: readiness is down and new requests get 503 {}", Drain.CODE);
    }

    public boolean ready() {
        return open && !closing;
    }

    public boolean starting() {
        return !open;
    }

    private void whileStarting(RoutingContext ctx) {
        if (closing && open) {
            whileDraining(ctx); // (stopped before it ever started: it answers as while starting)
            return;
        }
        if (open) {
            ctx.currentRoute().remove(); // the first request after start takes the gate off the router
            ctx.next();
            return;
        }
        String path = ctx.request().path();
        if ("/health".equals(path) || "/v1/health".equals(path)) {
            ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(STARTING);
        } else if ("/health/ready".equals(path)) {
            ctx.response().setStatusCode(503).putHeader(HttpHeaders.RETRY_AFTER, "1")
                    .putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(STARTING);
        } else {
            ReplyWriter.writeError(ctx.response(), OpenAiError.notReady("The gateway is starting; try again"), null);
        }
    }

    private void whileDraining(RoutingContext ctx) {
        String path = ctx.request().path();
        if ("/health/ready".equals(path)) {
            ctx.response().setStatusCode(503).putHeader(HttpHeaders.RETRY_AFTER, "1")
                    .putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(STOPPING);
        } else if ("/health".equals(path) || "/v1/health".equals(path) || "/metrics".equals(path)) {
            ctx.next(); // liveness stays up (the process is alive and busy finishing), and the last scrapes count
        } else {
            ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
            ReplyWriter.writeError(ctx.response(), Drain.refused(), null);
        }
    }

    /** The gate as a handler entry of the server's router, for every path. */
    private final class GateEntry extends AuthenticationConfig.AuthenticationConfigEntry {

        GateEntry() {
            setPath("/*");
        }

        @Override
        public Handler<RoutingContext> createAuthenticationHandler(Vertx vertx) {
            return StartupGate.this::whileStarting;
        }
    }
}
