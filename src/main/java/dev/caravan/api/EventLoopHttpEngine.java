package dev.caravan.api;

import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.camel.Processor;
import org.apache.camel.component.platform.http.PlatformHttpEndpoint;
import org.apache.camel.component.platform.http.spi.PlatformHttpConsumer;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpEngine;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;

/**
 * The platform-http engine of the gateway: the stock Vert.x engine, but its consumers drive routes
 * asynchronously from the event loop (see {@link EventLoopHttpConsumer}). Bound in the registry as
 * {@code platform-http-engine}, so every {@code platform-http:} route in {@code routes/} uses it.
 */
public class EventLoopHttpEngine extends VertxPlatformHttpEngine {

    private final AtomicBoolean errorPagesInstalled = new AtomicBoolean();
    private final ReloadingPaths reloading = new ReloadingPaths();

    @Override
    public PlatformHttpConsumer createConsumer(PlatformHttpEndpoint endpoint, Processor processor) {
        String routerName = VertxPlatformHttpRouter.getRouterNameFromPort(getServerPort());
        VertxPlatformHttpRouter router = VertxPlatformHttpRouter.lookup(getCamelContext(), routerName);
        if (router != null && errorPagesInstalled.compareAndSet(false, true)) {
            RouterErrorPages.install(router, reloading);
        }
        return new EventLoopHttpConsumer(endpoint, processor, routerName, reloading);
    }
}
