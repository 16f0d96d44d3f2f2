package dev.caravan.hooks;

import dev.caravan.config.ApiKeys;
import dev.caravan.config.KeyConfig;
import dev.caravan.config.LiveConfig;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.exchange.RequestBody;
import dev.caravan.exchange.ReplyHeaders;
import dev.caravan.limits.Admission;
import dev.caravan.limits.BucketStore;
import dev.caravan.limits.KeyLimits;
import dev.caravan.limits.Limits;
import dev.caravan.limits.RateLimitHeaders;
import dev.caravan.limits.ThrottledWarning;
import dev.caravan.limits.TokenReservation;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.Operation;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;
import org.apache.camel.support.SynchronizationAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pre-hook "rate-limit", after validation: takes one request and the request's token reservation from the
 * caller's buckets, or answers 429 rate_limit_exceeded with {@code retry-after} (and {@code retry-after-ms}).
 * Either way the x-ratelimit-* headers go on the reply; they are set here, before the backend call, so a stream
 * carries them in its head. The reservation is settled by {@link TokenSettlement}.
 * <p>
 * A bucket store that fails or does not answer in time (Redis down) lets the request through: an outage of the
 * shared state must not take the gateway down with it. That is logged as a WARN at most every 10 s.
 */
public final class RateLimit extends AsyncProcessorSupport {

    /** Exchange property: the request's {@link TokenReservation}, when its key has a token limit. */
    public static final String RESERVATION = "CaravanTokenReservation";
    /**
     * Exchange property: true when this request was already counted in the request bucket (a background task,
     * counted when it was accepted): only its tokens are taken now.
     */
    public static final String REQUEST_COUNTED = "CaravanRequestCounted";

    private static final Logger LOG = LoggerFactory.getLogger(RateLimit.class);
    private static final TokenReservation.Estimate NO_TOKENS = new TokenReservation.Estimate(0, 0);

    private final ApiKeys keys;
    private final KeyLimits keyLimits;
    private final BucketStore store;
    private final LiveConfig config;
    private final TokenSettlement settlement;
    private final long defaultCompletionTokens;
    private final long reservationCeiling;
    private final ThrottledWarning storeDown = new ThrottledWarning(LOG, 10_000);

    public RateLimit(ApiKeys keys, KeyLimits keyLimits, BucketStore store, LiveConfig config,
                     TokenSettlement settlement, long defaultCompletionTokens, long reservationCeiling) {
        this.keys = keys;
        this.keyLimits = keyLimits;
        this.store = store;
        this.config = config;
        this.settlement = settlement;
        this.defaultCompletionTokens = defaultCompletionTokens;
        this.reservationCeiling = reservationCeiling;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        Limits limits;
        TokenReservation.Estimate estimate;
        try {
            limits = limitsOf(exchange);
            if (limits == null || !limits.any()) {
                callback.done(true);
                return true;
            }
            estimate = limits.limitsTokens() ? TokenReservation.estimate(
                    RequestBody.of(exchange),
                    exchange.getProperty(ExchangeKeys.OPERATION, Operation.class), config.catalog(),
                    defaultCompletionTokens, reservationCeiling) : NO_TOKENS;
        } catch (RuntimeException e) {
            exchange.setException(e);
            callback.done(true);
            return true;
        }
        TokenReservation reservation = limits.limitsTokens() && estimate.total() > 0
                ? new TokenReservation(limits, estimate) : null;
        Future<Admission> admission = store.take(limits, estimate.total(), reservation == null ? null : reservation.id());
        if (admission.isComplete()) {
            admit(exchange, limits, estimate, reservation, admission);
            callback.done(true);
            return true;
        }
        Context context = Vertx.currentContext();
        admission.onComplete(ar -> onContext(context, () -> {
            admit(exchange, limits, estimate, reservation, ar);
            callback.done(false);
        }));
        return false;
    }

    private Limits limitsOf(Exchange exchange) {
        Limits limits = keyLimitsOf(exchange);
        if (limits != null && Boolean.TRUE.equals(exchange.getProperty(REQUEST_COUNTED, Boolean.class))) {
            return limits.withoutRequestLimit();
        }
        return limits;
    }

    private Limits keyLimitsOf(Exchange exchange) {
        KeyConfig key = exchange.getProperty(ExchangeKeys.KEY, KeyConfig.class);
        if (key == null) {
            return keys.authOff() ? keyLimits.anonymous() : null;
        }
        ApiKeys.Entry entry = exchange.getProperty(ApiKeyAuth.KEY_ENTRY, ApiKeys.Entry.class);
        if (entry == null) {
            entry = keys.find(key.key()); // a key the gateway set itself (background task)
        }
        return entry == null ? null : keyLimits.of(entry);
    }

    private void admit(Exchange exchange, Limits limits, TokenReservation.Estimate estimate,
                       TokenReservation reservation, AsyncResult<Admission> result) {
        if (result.failed()) {
            storeDown.warn("Rate limits are not enforced: the " + store.kind()
                    + " bucket store failed, requests pass unchecked until it answers again", result.cause());
            return;
        }
        Admission admission = result.result();
        RateLimitHeaders.set(exchange, limits, admission);
        if (!admission.allowed()) {
            long waitMillis = Math.max(1, admission.waitMillis());
            ReplyHeaders.set(exchange, "retry-after-ms", Long.toString(waitMillis));
            exchange.setException(tooMany(limits, admission, estimate.total(), waitMillis));
            return;
        }
        if (reservation != null) {
            exchange.setProperty(RESERVATION, reservation);
            // the routes settle it (post-hooks, errors); this settles a request that left by any other way
            exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
                @Override
                public void onDone(Exchange done) {
                    settlement.settle(done);
                }
            });
        }
    }

    private static OpenAiError tooMany(Limits limits, Admission admission, long tokens, long waitMillis) {
        String wait = RateLimitHeaders.duration(waitMillis);
        String message = admission.refused() == Admission.Refusal.REQUESTS
                ? "Rate limit reached for requests of key '" + limits.label() + "': limit " + limits.requestCapacity()
                  + ", refilled at " + limits.requestsPerMin() + " per minute. Please try again in " + wait + "."
                : "Rate limit reached for tokens per minute of key '" + limits.label() + "': limit "
                  + limits.tokenCapacity() + ", requested " + tokens + ". Please try again in " + wait + ".";
        return new OpenAiError(429, "rate_limit_exceeded", "rate_limit_exceeded", null, message,
                (waitMillis + 999) / 1000, null);
    }

    static void onContext(Context context, Runnable action) {
        if (context == null || Vertx.currentContext() == context) {
            action.run();
        } else {
            context.runOnContext(v -> action.run());
        }
    }
}
