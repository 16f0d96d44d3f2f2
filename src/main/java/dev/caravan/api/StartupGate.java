package dev.caravan.api;

import dev.caravan.openai.OpenAiError;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Readiness. The HTTP server listens before the routes exist, and the lanes are made only once the context has
 * fully started: a request in between would get 404 for an endpoint that exists, or reach a half-built pipeline.
 * Until {@link #open()}, a handler placed first on the platform-http router answers everything itself: 503
 * {@code not_ready} with retry-after, {@code /health} {"status":"starting"} (200: the process is alive) and
 * {@code /health/ready} 503. Once open the handler is removed from the router, so it costs a request nothing.
 * {@link #closing()} marks the gateway not ready again for the readiness probe while it shuts down.
 */
public final class StartupGate {

    private static final Logger LOG = LoggerFactory.getLogger(StartupGate.class);
    private static final String STARTING = "{\"status\":\"starting\"}";

    private volatile boolean open;
    private volatile boolean installed;
    private volatile boolean closing;
    private Route gate;

    /** Places the gate on the gateway's platform-http router, if Camel made it already; false if not. */
    public boolean install(CamelContext camel, int port) {
        VertxPlatformHttpRouter router = VertxPlatformHttpRouter.lookup(camel,
                VertxPlatformHttpRouter.getRouterNameFromPort(port));
        if (router == null) {
            return false;
        }
        install(router);
        return true;
    }

    synchronized void install(Router router) {
        if (gate == null && !open) {
            gate = router.route().order(Integer.MIN_VALUE).handler(this::whileStarting);
        }
        installed = true;
    }

    /** Whether the gate is on the router (or was, and is open now). */
    public boolean installed() {
        return installed;
    }

    /** Everything is up: requests reach the routes from now on. */
    public void open() {
        open = true;
        synchronized (this) {
            if (gate != null) {
                gate.remove();
                gate = null;
            }
        }
        LOG.info("Caravan is ready");
    }

    /** Shutting down: the readiness probe answers 503 so that load balancers stop sending. */
    public void closing() {
        closing = true;
    }

    public boolean ready() {
        return open && !closing;
    }

    public boolean starting() {
        return !open;
    }

    private void whileStarting(RoutingContext ctx) {
        if (open) {
            ctx.next(); // a request that raced the removal
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
}
