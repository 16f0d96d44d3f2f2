package dev.caravan.limits;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import dev.caravan.config.ApiKeys;
import dev.caravan.exchange.Jmx;
import org.apache.camel.CamelContext;
import org.apache.camel.api.management.ManagedAttribute;
import org.apache.camel.api.management.ManagedResource;

/**
 * The rate limits of one key in JMX ({@code org.apache.camel:context=…,type=rateLimits,name="<key name>"}; a key
 * without a name shows as its short hash, the key itself never): read-only, as gateway.yaml and API_KEYS_JSON set
 * them (with RATE_LIMIT_PER_MIN / RATE_LIMIT_BURST as defaults). With auth off, one entry "anonymous".
 */
@ManagedResource(description = "Caravan rate limits of one API key")
public final class ManagedKeyLimits {

    static final String TYPE = "rateLimits";

    private final String name;
    private final Limits limits;

    ManagedKeyLimits(String name, Limits limits) {
        this.name = name;
        this.limits = limits;
    }

    @ManagedAttribute(description = "Key name (or short hash when it has none)")
    public String getKeyName() {
        return name;
    }

    @ManagedAttribute(description = "Requests per minute (0: no request limit)")
    public long getRequestsPerMin() {
        return limits.requestsPerMin();
    }

    @ManagedAttribute(description = "Requests that may pass at once: the request bucket's size (0: no request limit)")
    public long getBurst() {
        return limits.requestCapacity();
    }

    @ManagedAttribute(description = "Prompt + completion tokens per minute (0: no token limit)")
    public long getTokensPerMin() {
        return limits.tokensPerMin();
    }

    /** Keeps one MBean per key in force: called at start and after every change of the keys. */
    public static final class Publisher {
        private final CamelContext camel;
        private final ApiKeys keys;
        private final KeyLimits keyLimits;
        private final Set<String> published = new HashSet<>();

        public Publisher(CamelContext camel, ApiKeys keys, KeyLimits keyLimits) {
            this.camel = camel;
            this.keys = keys;
            this.keyLimits = keyLimits;
        }

        public synchronized void publish() {
            Map<String, Limits> now = new LinkedHashMap<>();
            if (keys.authOff()) {
                now.put(KeyLimits.ANONYMOUS, keyLimits.anonymous());
            }
            for (ApiKeys.Entry key : keys.entries()) {
                String name = now.containsKey(key.label()) ? key.label() + "#" + key.shortHash() : key.label();
                now.put(name, keyLimits.of(key));
            }
            for (String gone : Set.copyOf(published)) {
                if (!now.containsKey(gone)) {
                    Jmx.unregister(camel, TYPE, gone);
                    published.remove(gone);
                }
            }
            now.forEach((name, limits) -> {
                Jmx.register(camel, new ManagedKeyLimits(name, limits), TYPE, name);
                published.add(name);
            });
        }
    }
}
