package dev.caravan.hooks;

import dev.caravan.config.ApiKeys;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.openai.OpenAiError;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The guard of admin endpoints (DLQ, pipelines): put {@code - process: {ref: adminAuth}} first in their routes.
 * <ul>
 *   <li>ADMIN_API_KEY set: that key (Bearer or x-api-key) and no other; a normal key gets 403, none or an
 *       unknown one 401.</li>
 *   <li>ADMIN_API_KEY unset, API keys configured: any valid key (it is set as {@link ExchangeKeys#KEY}).</li>
 *   <li>ADMIN_API_KEY unset, no keys at all (auth off): open, like every other endpoint.</li>
 * </ul>
 * On success {@link ExchangeKeys#ADMIN} is true.
 */
public final class AdminAuth implements Processor {

    private final ApiKeys keys;

    public AdminAuth(ApiKeys keys) {
        this.keys = keys;
    }

    /**
     * Whether the request presents what {@link #process} accepts, without failing it: for pages that show an
     * admin more than anyone else (GET /health).
     */
    public boolean admits(Exchange exchange) {
        return admits(PresentedKey.take(exchange).value());
    }

    /** Whether {@code presented} (a key, or null for none) is what {@link #process} accepts. */
    boolean admits(String presented) {
        if (keys.hasAdminKey()) {
            return keys.isAdmin(presented);
        }
        return keys.authOff() || keys.find(presented) != null;
    }

    @Override
    public void process(Exchange exchange) {
        PresentedKey presented = PresentedKey.take(exchange);
        if (keys.hasAdminKey()) {
            if (keys.isAdmin(presented.value())) {
                exchange.setProperty(ExchangeKeys.ADMIN, true);
                return;
            }
            if (presented.missing()) {
                throw presented.unauthorized(exchange, false);
            }
            if (keys.find(presented.value()) != null) {
                throw new OpenAiError(403, "invalid_request_error", "admin_key_required", null,
                        "This endpoint needs the admin key (ADMIN_API_KEY).");
            }
            throw presented.unauthorized(exchange, true);
        }
        if (!keys.authOff()) {
            if (presented.missing()) {
                throw presented.unauthorized(exchange, false);
            }
            ApiKeys.Entry entry = keys.find(presented.value());
            if (entry == null) {
                throw presented.unauthorized(exchange, true);
            }
            exchange.setProperty(ExchangeKeys.KEY, entry.config());
            exchange.setProperty(ApiKeyAuth.KEY_ENTRY, entry);
        }
        exchange.setProperty(ExchangeKeys.ADMIN, true);
    }
}
