package dev.caravan.hooks;

import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.limits.BucketStore;
import dev.caravan.limits.ThrottledWarning;
import dev.caravan.limits.TokenReservation;
import dev.caravan.openai.Usage;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step "settle-tokens", in the post-hooks and in the error route: once the request's real usage is known
 * (for a stream, once it ended, whether it finished, broke or its client left), the key's token bucket gets
 * back what the reservation held beyond that usage, or is charged what the usage went beyond it.
 * <p>
 * The usage settled: the upstream's (or the stream's count) when there is one; see {@link #used}. Each request
 * settles once, whichever step (or the exchange's completion, as a last resort) gets there first.
 */
public final class TokenSettlement extends AsyncProcessorSupport {

    private static final Logger LOG = LoggerFactory.getLogger(TokenSettlement.class);

    private final BucketStore store;
    private final ThrottledWarning storeDown = new ThrottledWarning(LOG, 10_000);

    public TokenSettlement(BucketStore store) {
        this.store = store;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        Future<Void> settled = settle(exchange);
        if (settled.isComplete()) {
            callback.done(true);
            return true;
        }
        Context context = Vertx.currentContext();
        settled.onComplete(ar -> RateLimit.onContext(context, () -> callback.done(false)));
        return false;
    }

    /** Upstream calls made for the request (ExchangeKeys.ATTEMPTS, set by the backend call). */
    static final String UPSTREAM_ATTEMPTS = "CaravanAttempts";

    /**
     * The usage reported (or counted on the stream); without one: nothing when no upstream was called (refused,
     * failed before, or accepted as a background task that runs later), the prompt when the client left (the
     * upstream read it), nothing when the request failed, the whole reservation when it succeeded unreported.
     */
    static long used(Exchange exchange, TokenReservation reservation) {
        Usage usage = exchange.getProperty(ExchangeKeys.USAGE, Usage.class);
        if (usage != null) {
            return usage.totalTokens();
        }
        Integer attempts = exchange.getProperty(UPSTREAM_ATTEMPTS, Integer.class);
        if (attempts == null || attempts == 0) {
            return 0;
        }
        if (exchange.getProperty(ExchangeKeys.CLIENT_GONE) != null) {
            return reservation.prompt();
        }
        boolean failed = exchange.getException() != null || exchange.getProperty(Exchange.EXCEPTION_CAUGHT) != null;
        return failed ? 0 : reservation.reserved();
    }

    /** Settles the exchange's reservation if it has one not yet settled; never fails. */
    public Future<Void> settle(Exchange exchange) {
        TokenReservation reservation = exchange.getProperty(RateLimit.RESERVATION, TokenReservation.class);
        if (reservation == null || !reservation.claim()) {
            return Future.succeededFuture();
        }
        long used = used(exchange, reservation);
        // settled even when nothing moves: a hold left in the store would be given back once its lease ran out
        return store.settle(reservation.limits(), reservation.id(), reservation.reserved(), used).otherwise(failure -> {
            storeDown.warn("A token reservation of key '" + reservation.limits().label()
                    + "' could not be settled: the " + store.kind() + " bucket store failed", failure);
            return null;
        });
    }
}
