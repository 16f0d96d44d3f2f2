package dev.caravan.api;

import java.util.List;
import java.util.Map;

import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.stream.ClientConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePattern;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.apache.camel.component.platform.http.PlatformHttpEndpoint;
import org.apache.camel.component.platform.http.vertx.HttpMessage;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpConsumer;

/**
 * A platform-http consumer that runs the route on the Vert.x event loop and lets it complete
 * asynchronously, instead of parking a worker thread per request as the stock consumer does.
 * <p>
 * Why: the stock consumer hops event loop → worker → event loop for every request (~33 µs per hop on this
 * box) and holds a worker thread for the whole life of a stream, so the 21st concurrent stream waits. Here
 * no thread is held while a request waits in a lane or streams from its upstream; every step on the path
 * must therefore be non-blocking (blocking work, such as local embeddings, goes to a worker itself).
 * <p>
 * The reply is written from the exchange by {@link ReplyWriter} unless the route already answered (a
 * stream), so the HTTP response stays reachable as the exchange's {@link HttpMessage} for the whole route.
 */
public class EventLoopHttpConsumer extends VertxPlatformHttpConsumer {

    private final ReloadingPaths reloading;

    EventLoopHttpConsumer(PlatformHttpEndpoint endpoint, Processor processor, String routerName,
                          ReloadingPaths reloading) {
        super(endpoint, processor, List.of(), routerName);
        this.reloading = reloading;
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        reloading.started(servedPath());
    }

    @Override
    protected void doStop() throws Exception {
        reloading.stopped(servedPath());
        super.doStop();
    }

    private String servedPath() {
        return getEndpoint().isMatchOnUriPrefix() ? getEndpoint().getPath() + "*" : getEndpoint().getPath();
    }

    @Override
    protected void handleRequest(RoutingContext ctx) {
        if (isSuspended()) {
            ReplyWriter.writeError(ctx.response(), dev.caravan.openai.OpenAiError.overloaded(
                    "The gateway is not accepting requests right now", 1), null);
            return;
        }
        Exchange exchange = createExchange(false);
        exchange.setPattern(ExchangePattern.InOut);
        exchange.setProperty(ExchangeKeys.RECEIVED_NANOS, System.nanoTime());
        exchange.setProperty(ExchangeKeys.RESPONSE, ctx.response());
        exchange.setProperty(ExchangeKeys.CANCELLATION, ClientConnection.cancellationOf(ctx.response()));
        HttpServerRequest request = ctx.request();
        HttpMessage in = new HttpMessage(exchange, request, ctx.response());
        exchange.setMessage(in);
        copyRequestHeaders(ctx, in);
        if (ctx.body() != null && ctx.body().buffer() != null) {
            in.setBody(ctx.body().buffer());
        }
        try {
            createUoW(exchange);
        } catch (Exception e) {
            exchange.setException(e);
            complete(ctx.response(), exchange);
            return;
        }
        getAsyncProcessor().process(exchange, doneSync -> complete(ctx.response(), exchange));
    }

    private static void copyRequestHeaders(RoutingContext ctx, Message in) {
        HttpServerRequest request = ctx.request();
        for (Map.Entry<String, String> header : request.headers()) {
            if (!steersCamel(header.getKey())) {
                in.setHeader(header.getKey(), header.getValue());
            }
        }
        for (Map.Entry<String, String> param : ctx.pathParams().entrySet()) {
            in.setHeader(param.getKey(), param.getValue());
        }
        in.setHeader(Exchange.HTTP_METHOD, request.method().name());
        in.setHeader(Exchange.HTTP_PATH, request.path());
        in.setHeader(Exchange.HTTP_QUERY, request.query());
    }

    /**
     * Camel's own headers (CamelHttpResponseCode, CamelHttpUri, ...) steer its components: a client never sets
     * them (the CVE-2025-27636 class). Two region compares, no allocation, per header.
     */
    static boolean steersCamel(String name) {
        return name.regionMatches(true, 0, "camel", 0, 5) || name.regionMatches(true, 0, "org.apache.camel", 0, 16);
    }

    private void complete(HttpServerResponse response, Exchange exchange) {
        try {
            ReplyWriter.write(response, exchange);
        } finally {
            doneUoW(exchange);
            releaseExchange(exchange, false);
        }
    }
}
