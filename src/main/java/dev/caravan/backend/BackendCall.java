package dev.caravan.backend;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.api.ExchangeKeys;
import dev.caravan.api.GatewayTime;
import dev.caravan.config.ModelRoute;
import dev.caravan.openai.LegacyCompletions;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.Operation;
import dev.caravan.openai.PromptTokens;
import dev.caravan.openai.ReplyFormat;
import dev.caravan.openai.Usage;
import dev.caravan.stream.Cancellation;
import dev.caravan.stream.ClientConnection;
import dev.caravan.stream.StreamRelay;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * The step of the backend routes that calls the upstream: picks the adapter for the backend's protocol, arms
 * the backend's timeout and the client-disconnect abort, and puts the reply on the exchange (or relays the
 * stream to the client). Completes the exchange asynchronously: no thread waits on the upstream.
 */
public final class BackendCall extends AsyncProcessorSupport {

    /** Exchange property: true when the client disconnected before its reply ended. */
    public static final String CLIENT_GONE = "CaravanClientGone";

    private final Adapters adapters;
    private final Vertx vertx;

    public BackendCall(Adapters adapters, Vertx vertx) {
        this.adapters = adapters;
        this.vertx = vertx;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        ModelRoute route = exchange.getProperty(ExchangeKeys.MODEL_ROUTE, ModelRoute.class);
        Operation operation = exchange.getProperty(ExchangeKeys.OPERATION, Operation.class);
        ReplyFormat format = exchange.getProperty(ExchangeKeys.REPLY_FORMAT, ReplyFormat.class);
        ObjectNode request = exchange.getProperty(ExchangeKeys.REQUEST, ObjectNode.class);
        try {
            BackendAdapter adapter = adapters.of(route.backend().backendType());
            boolean translate = operation == Operation.COMPLETION && !adapter.servesLegacyCompletions();
            Cancellation cancellation = new Cancellation();
            Cancellation whole = exchange.getProperty(ExchangeKeys.CANCELLATION, Cancellation.class);
            if (whole != null) {
                whole.onCancel(reason -> {
                    if (ClientConnection.isClientGone(reason)) {
                        exchange.setProperty(CLIENT_GONE, true);
                    }
                    cancellation.cancel(reason);
                });
            }
            long timeout = route.backend().timeoutSeconds() * 1000L;
            long timer = vertx.setTimer(timeout, id -> cancellation.cancel(OpenAiError.deadline(
                    "The upstream did not finish within " + route.backend().timeoutSeconds() + " s")));
            UpstreamCall call = new UpstreamCall(translate ? Operation.CHAT : operation,
                    translate ? LegacyCompletions.toChatRequest(request) : request, route,
                    exchange.getProperty(ExchangeKeys.REQUEST_ID, String.class), cancellation);
            long sent = System.nanoTime();
            Future<?> outcome;
            try {
                outcome = format.streams()
                        ? stream(exchange, adapter, call, format, translate, sent)
                        : reply(exchange, adapter, call, translate, sent);
            } catch (RuntimeException e) {
                vertx.cancelTimer(timer);
                throw e;
            }
            return completeWhen(outcome.onComplete(ar -> vertx.cancelTimer(timer)), callback);
        } catch (RuntimeException e) {
            exchange.setException(e);
            callback.done(true);
            return true;
        }
    }

    private Future<?> reply(Exchange exchange, BackendAdapter adapter, UpstreamCall call, boolean translate, long sent) {
        return adapter.call(call).andThen(ar -> {
            GatewayTime.addUpstreamNanos(exchange, System.nanoTime() - sent);
            if (ar.succeeded()) {
                ObjectNode body = translate ? LegacyCompletions.toTextCompletion(ar.result()) : ar.result();
                exchange.getMessage().setBody(body);
                Usage usage = Usage.of(body.get("usage"));
                if (usage != null) {
                    exchange.setProperty(ExchangeKeys.USAGE, usage);
                }
            } else {
                fail(exchange, failure(call, ar.cause()));
            }
        });
    }

    private Future<?> stream(Exchange exchange, BackendAdapter adapter, UpstreamCall call, ReplyFormat format,
                             boolean translate, long sent) {
        HttpServerResponse response = exchange.getProperty(ExchangeKeys.RESPONSE, HttpServerResponse.class);
        ObjectNode request = exchange.getProperty(ExchangeKeys.REQUEST, ObjectNode.class);
        boolean includeUsage = request.path("stream_options").path("include_usage").asBoolean(false);
        StreamRelay relay = new StreamRelay(response, format, includeUsage, call.route().model(), exchange, sent,
                PromptTokens.estimate(request));
        return adapter.stream(call, translate ? LegacyCompletions.textChunks(relay) : relay).andThen(ar -> {
            if (ar.succeeded()) {
                relay.finish();
            } else if (exchange.getProperty(CLIENT_GONE) == null) {
                OpenAiError error = UpstreamErrors.ofFailure(failure(call, ar.cause()));
                if (relay.opened()) {
                    relay.fail(error); // mid-stream: an error event and no [DONE]
                }
                exchange.setException(error);
            }
            exchange.setProperty(ExchangeKeys.USAGE, relay.usage());
            exchange.getMessage().setBody(relay.completion());
        });
    }

    /** A call we cancelled fails with whatever the reset surfaced as; the reason we cancelled it is the truth. */
    private static Throwable failure(UpstreamCall call, Throwable surfaced) {
        Throwable reason = call.cancellation().reason();
        return reason != null ? reason : surfaced;
    }

    private static void fail(Exchange exchange, Throwable cause) {
        if (exchange.getProperty(CLIENT_GONE) == null) {
            exchange.setException(UpstreamErrors.ofFailure(cause));
        }
    }

    /** Completes the Camel callback when the future does, synchronously if it already has. */
    private static boolean completeWhen(Future<?> future, AsyncCallback callback) {
        if (future.isComplete()) {
            callback.done(true);
            return true;
        }
        future.onComplete(ar -> callback.done(false));
        return false;
    }
}
