package dev.caravan.hooks;

import dev.caravan.config.ApiKeys;
import dev.caravan.config.LiveConfig;
import dev.caravan.config.Settings;
import dev.caravan.limits.BucketStore;
import dev.caravan.limits.KeyLimits;
import dev.caravan.limits.Limits;
import dev.caravan.limits.ManagedKeyLimits;
import dev.caravan.limits.MemoryBuckets;
import dev.caravan.limits.RedisBuckets;
import dev.caravan.state.RedisConnection;
import io.vertx.core.Vertx;
import org.apache.camel.CamelContext;
import org.apache.camel.StartupListener;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.spi.Registry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The beans of keys and limits, by the names routes/ uses: {@code apiKeys}, {@code apiKeyAuth} (pre-hook auth),
 * {@code modelAccess} (router), {@code adminAuth} (admin endpoints), {@code debugSwitch} (pipeline: x-caravan-debug),
 * {@code rateLimit} (pre-hook) and
 * {@code tokenSettlement} (post-hooks and errors). Settings: gateway.api-keys-json (API_KEYS_JSON),
 * gateway.admin-api-key (ADMIN_API_KEY), gateway.rate-limit-per-min (RATE_LIMIT_PER_MIN),
 * gateway.rate-limit-burst (RATE_LIMIT_BURST), gateway.token-reservation-default, gateway.token-reservation-max
 * (TOKEN_RESERVATION_MAX), gateway.token-reservation-lease-seconds, gateway.rate-limit-redis-timeout-ms.
 */
public final class TrafficControl {

    private static final Logger LOG = LoggerFactory.getLogger(TrafficControl.class);

    private TrafficControl() {
    }

    /** Binds the beans; the buckets live in Redis when {@code redis} is given, else in memory. */
    public static ApiKeys bind(CamelContext camel, LiveConfig config, Vertx vertx, RedisConnection redis)
            throws Exception {
        PropertiesComponent properties = camel.getPropertiesComponent();
        Registry registry = camel.getRegistry();
        ApiKeys keys = new ApiKeys(config, Settings.text(properties, "gateway.api-keys-json", ""),
                Settings.text(properties, "gateway.admin-api-key", ""));
        KeyLimits keyLimits = new KeyLimits(Settings.number(properties, "gateway.rate-limit-per-min", 0),
                Settings.number(properties, "gateway.rate-limit-burst", 0));
        BucketStore store = redis == null ? new MemoryBuckets()
                : new RedisBuckets(redis, vertx, Settings.number(properties, "gateway.rate-limit-redis-timeout-ms", 500),
                        Settings.number(properties, "gateway.token-reservation-lease-seconds", 30) * 1000);
        if (store instanceof RedisBuckets shared) {
            shared.start(); // its timer ends with Vert.x (VertxCloser)
        }
        TokenSettlement settlement = new TokenSettlement(store);
        registry.bind("apiKeys", keys);
        registry.bind("apiKeyAuth", new ApiKeyAuth(keys));
        registry.bind("modelAccess", new ModelAccess());
        AdminAuth adminAuth = new AdminAuth(keys);
        registry.bind("adminAuth", adminAuth);
        // x-caravan-debug: true from the admin: the request's steps and times come back with its reply
        registry.bind("debugSwitch", new DebugSwitch(adminAuth));
        registry.bind("tokenSettlement", settlement);
        registry.bind("rateLimit", new RateLimit(keys, keyLimits, store, config, settlement,
                Settings.number(properties, "gateway.token-reservation-default", 1024),
                Settings.number(properties, "gateway.token-reservation-max", 32768)));
        // each key's limits in JMX (type=rateLimits), once the context (and its JMX agent) runs, then on every change
        ManagedKeyLimits.Publisher limitsInJmx = new ManagedKeyLimits.Publisher(camel, keys, keyLimits);
        camel.addStartupListener(new StartupListener() {
            @Override
            public void onCamelContextStarted(CamelContext context, boolean alreadyStarted) {
                // published once fully started (below)
            }

            @Override
            public void onCamelContextFullyStarted(CamelContext context, boolean alreadyStarted) {
                limitsInJmx.publish();
                config.onChange(catalog -> limitsInJmx.publish());
            }
        });
        if (keys.hasAdminKey()) {
            LOG.info("Admin endpoints take the admin key (ADMIN_API_KEY) only");
        }
        Limits defaults = keyLimits.anonymous();
        LOG.info("Rate limits: buckets in {}; a key without its own limit gets {}", store.kind(),
                defaults.limitsRequests() ? defaults.requestsPerMin() + " requests per minute, burst "
                        + defaults.requestCapacity() : "no request limit");
        return keys;
    }
}
