package dev.caravan.tasks;

import dev.caravan.config.ApiKeys;
import dev.caravan.config.KeyConfig;
import dev.caravan.exchange.ExchangeKeys;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;

/**
 * The key a task (or a dead letter) belongs to: {@code id} is the key's digest prefix (never the key itself, so it
 * may be stored in Redis), {@code name} its name for people. "anonymous" when auth is off.
 */
record TaskOwner(String id, String name) {

    static final TaskOwner ANONYMOUS = new TaskOwner("anonymous", "anonymous");

    /** The caller of this exchange, as the auth step left it in {@link ExchangeKeys#KEY}. */
    static TaskOwner of(Exchange exchange) {
        KeyConfig key = exchange.getProperty(ExchangeKeys.KEY, KeyConfig.class);
        if (key == null) {
            return ANONYMOUS;
        }
        ApiKeys keys = apiKeys(exchange.getContext());
        ApiKeys.Entry entry = keys == null ? null : keys.find(key.key());
        if (entry != null) {
            return new TaskOwner(entry.id(), entry.label());
        }
        String name = key.name() == null || key.name().isBlank() ? "unnamed" : key.name();
        return new TaskOwner("name:" + name, name);
    }

    /** The key this owner id stands for now, or null (auth off, or the key is no longer configured). */
    KeyConfig key(CamelContext camel) {
        ApiKeys keys = apiKeys(camel);
        if (keys == null || ANONYMOUS.id.equals(id)) {
            return null;
        }
        for (ApiKeys.Entry entry : keys.entries()) {
            if (entry.id().equals(id) || id.equals("name:" + entry.config().name())) {
                return entry.config();
            }
        }
        return null;
    }

    /** True when the gateway has keys, so a task must run under one. */
    static boolean authOn(CamelContext camel) {
        ApiKeys keys = apiKeys(camel);
        return keys != null && !keys.authOff();
    }

    private static ApiKeys apiKeys(CamelContext camel) {
        return camel.getRegistry().findSingleByType(ApiKeys.class);
    }
}
