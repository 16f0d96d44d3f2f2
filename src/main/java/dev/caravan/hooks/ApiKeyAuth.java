package dev.caravan.hooks;

import dev.caravan.config.ApiKeys;
import dev.caravan.config.KeyConfig;
import dev.caravan.config.Priority;
import dev.caravan.exchange.ExchangeKeys;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pre-hook "auth": the caller's key (Bearer or x-api-key) must be one of the configured keys, else 401. Sets
 * the key ({@link ExchangeKeys#KEY}, {@link #KEY_ENTRY}) and the request's priority: {@code x-priority} when it
 * does not ask for more than the key's tier, else the tier (default normal). With no key configured, auth is
 * off and {@code x-priority} is taken as sent.
 */
public final class ApiKeyAuth implements Processor {

    /** Exchange property: the caller's {@link ApiKeys.Entry} (its id names its rate-limit buckets). */
    public static final String KEY_ENTRY = "CaravanKeyEntry";

    private static final Logger LOG = LoggerFactory.getLogger(ApiKeyAuth.class);

    private final ApiKeys keys;

    public ApiKeyAuth(ApiKeys keys) {
        this.keys = keys;
    }

    @Override
    public void process(Exchange exchange) {
        PresentedKey presented = PresentedKey.take(exchange);
        Priority asked = Priority.parse(exchange.getMessage().getHeader("x-priority", String.class));
        KeyConfig internal = exchange.getProperty(ExchangeKeys.KEY, KeyConfig.class);
        if (internal != null) {
            // set by the gateway itself (a background task carries the key it was accepted with); never by a client.
            // The request was counted when the task was accepted; its tokens are taken when it runs.
            exchange.setProperty(ExchangeKeys.PRIORITY, capped(asked, internal));
            exchange.setProperty(RateLimit.REQUEST_COUNTED, true);
            return;
        }
        if (keys.authOff()) {
            exchange.setProperty(ExchangeKeys.PRIORITY, asked == null ? Priority.NORMAL : asked);
            return;
        }
        if (presented.missing()) {
            throw presented.unauthorized(exchange, false);
        }
        ApiKeys.Entry entry = keys.find(presented.value());
        if (entry == null) {
            if (LOG.isDebugEnabled()) {
                LOG.debug("Request {}: unknown API key {}", exchange.getProperty(ExchangeKeys.REQUEST_ID),
                        ApiKeys.shortHash(presented.value()));
            }
            throw presented.unauthorized(exchange, true);
        }
        exchange.setProperty(ExchangeKeys.KEY, entry.config());
        exchange.setProperty(KEY_ENTRY, entry);
        exchange.setProperty(ExchangeKeys.PRIORITY, capped(asked, entry.config()));
    }

    /** A key may ask for a lower priority than its tier, never a higher one. */
    static Priority capped(Priority asked, KeyConfig key) {
        Priority tier = Priority.parse(key.priority());
        if (tier == null) {
            tier = Priority.NORMAL;
        }
        return asked != null && asked.ordinal() > tier.ordinal() ? asked : tier;
    }
}
