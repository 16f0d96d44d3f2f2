package dev.caravan.resilience;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.config.LiveConfig;
import dev.caravan.config.ModelRoute;
import dev.caravan.exchange.Cancellation;
import dev.caravan.exchange.ErrorMapping;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.exchange.ReplyHeaders;
import dev.caravan.openai.OpenAiError;
import io.vertx.core.http.HttpServerResponse;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Router step "next-fallback", the doCatch of the model chain: after the lane of a model failed, picks the next of
 * the requested model's {@code fallbacks} (gateway.yaml, resolved in the configuration in force now) and points
 * the exchange at it, or rethrows. It rethrows as is when the request itself is over (deadline passed, client
 * gone) or a stream already reached the client, and when the failure is one another model would not fix (the
 * upstream judged the request bad). When the chain is used up, the client gets the requested model's error, its
 * message naming what the fallbacks answered.
 * <p>
 * The failed lane's slot is already free when this step runs (the lane releases it in its doFinally), so a
 * fallback never holds two slots.
 */
public final class NextFallback implements Processor {

    /** Exchange property: the models tried so far and what they failed with (a {@link Chain}). */
    public static final String CHAIN = "CaravanFallbackChain";

    private static final Logger LOG = LoggerFactory.getLogger(NextFallback.class);

    private final LiveConfig config;

    public NextFallback(LiveConfig config) {
        this.config = config;
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        Exception failure = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        if (failure == null) {
            failure = OpenAiError.internal("The model chain failed without a failure");
        }
        ModelRoute current = exchange.getProperty(ExchangeKeys.MODEL_ROUTE, ModelRoute.class);
        Chain chain = exchange.getProperty(CHAIN, Chain.class);
        if (chain == null) {
            chain = new Chain(current);
            exchange.setProperty(CHAIN, chain);
        }
        chain.failed(current, failure);
        if (requestIsOver(exchange)) {
            throw failure;
        }
        ModelRoute next = Failures.mayFallBack(failure) ? chain.next(config) : null;
        if (next == null) {
            throw chain.giveUp(exchange, failure);
        }
        // routine while a circuit is open, news otherwise
        boolean routine = failure instanceof OpenAiError error && "circuit_open".equals(error.code());
        if (routine ? LOG.isDebugEnabled() : LOG.isInfoEnabled()) {
            String line = "Request " + exchange.getProperty(ExchangeKeys.REQUEST_ID) + ": model '" + current.model()
                    + "' on backend '" + current.backendName() + "' failed (" + summary(failure, exchange)
                    + "); falling back to '" + next.model() + "' on backend '" + next.backendName() + "'";
            if (routine) {
                LOG.debug(line);
            } else {
                LOG.info(line);
            }
        }
        List<String> taken = exchange.getProperty(ExchangeKeys.FALLBACKS, List.class);
        if (taken == null) {
            taken = new ArrayList<>(2);
            exchange.setProperty(ExchangeKeys.FALLBACKS, taken);
        }
        taken.add(current.model() + "@" + current.backendName());
        point(exchange, next);
    }

    /** The deadline passed, the client left, or bytes of a stream already reached it: no other model may start. */
    private static boolean requestIsOver(Exchange exchange) {
        Cancellation cancellation = exchange.getProperty(ExchangeKeys.CANCELLATION, Cancellation.class);
        if (cancellation != null && cancellation.reason() != null || exchange.getProperty(ExchangeKeys.CLIENT_GONE) != null) {
            return true;
        }
        HttpServerResponse response = exchange.getProperty(ExchangeKeys.RESPONSE, HttpServerResponse.class);
        return response != null && (response.headWritten() || response.closed());
    }

    private static void point(Exchange exchange, ModelRoute route) {
        exchange.setProperty(ExchangeKeys.MODEL_ROUTE, route);
        exchange.setProperty(ExchangeKeys.BACKEND, route.backendName());
        ReplyHeaders.set(exchange, "x-caravan-backend", route.backendName());
    }

    private static String summary(Throwable failure, Exchange exchange) {
        OpenAiError error = ErrorMapping.toOpenAiError(failure, exchange);
        return error.status() + " " + error.code() + ": " + error.getMessage();
    }

    /** The requested model and its fallbacks, as far as tried. */
    static final class Chain {
        private final ModelRoute requested;
        private final List<ModelRoute> tried = new ArrayList<>(2);
        private final List<Throwable> failures = new ArrayList<>(2);
        private int nextFallback;

        Chain(ModelRoute requested) {
            this.requested = requested;
        }

        void failed(ModelRoute route, Throwable failure) {
            tried.add(route);
            failures.add(failure);
        }

        /** The next fallback the configuration in force knows, skipping models already tried; null at the end. */
        ModelRoute next(LiveConfig config) {
            List<String> fallbacks = requested == null || requested.config() == null ? List.of()
                    : requested.config().fallbacksOrEmpty();
            while (nextFallback < fallbacks.size()) {
                String id = fallbacks.get(nextFallback++);
                if (tried.stream().anyMatch(r -> r.model().equals(id))) {
                    continue;
                }
                ModelRoute route = config.catalog().resolve(id).orElse(null);
                if (route == null) {
                    LOG.warn("Fallback '{}' of model '{}' is not a model of the configuration in force; skipped", id,
                            requested.model());
                    continue;
                }
                return route;
            }
            return null;
        }

        /**
         * The failure the client gets once no model served: the requested model's own, with the fallbacks' outcomes
         * in its message; the exchange points at the requested model again (x-caravan-backend, metrics, DLQ).
         */
        Exception giveUp(Exchange exchange, Exception last) {
            if (tried.size() < 2) {
                return last;
            }
            OpenAiError first = ErrorMapping.toOpenAiError(failures.get(0), exchange);
            StringBuilder message = new StringBuilder(first.getMessage()).append(" (fallbacks failed too:");
            for (int i = 1; i < tried.size(); i++) {
                OpenAiError error = ErrorMapping.toOpenAiError(failures.get(i), exchange);
                message.append(i > 1 ? ";" : "").append(" '").append(tried.get(i).model()).append("' on backend '")
                        .append(tried.get(i).backendName()).append("': ").append(error.status()).append(' ')
                        .append(error.code());
            }
            message.append(')');
            point(exchange, tried.get(0));
            JsonNode param = first.toJson().path("error").path("param");
            return new OpenAiError(first.status(), first.type(), first.code(), param.isTextual() ? param.asText() : null,
                    message.toString(), first.retryAfterSeconds(), first);
        }
    }
}
