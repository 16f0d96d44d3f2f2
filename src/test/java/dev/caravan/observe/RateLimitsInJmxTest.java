package dev.caravan.observe;

import java.lang.management.ManagementFactory;
import java.time.Duration;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import dev.caravan.support.Await;
import dev.caravan.support.GatewayInstance;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Each key's rate limits are read-only MBeans (type=rateLimits) that follow gateway.yaml; the key never shows. */
class RateLimitsInJmxTest {

    private static final MBeanServer JMX = ManagementFactory.getPlatformMBeanServer();
    private static final String KEYS = """
            backends:
              loc: {type: local}
            keys:
              - {key: alice-key-0123456789, name: alice, rate-limit-per-min: 60, burst: 10, tokens-per-min: 100000}
              - {key: bob-key-0123456789, name: bob}
            """;

    @Test
    void eachKeysLimitsAreReadableAndFollowTheFile() throws Exception {
        try (GatewayInstance gateway = GatewayInstance.builder().config(KEYS)
                .property("gateway.rate-limit-per-min", "30").start()) {
            ObjectName alice = name(gateway, "alice");
            ObjectName bob = name(gateway, "bob");
            assertEquals("alice", JMX.getAttribute(alice, "KeyName"));
            assertEquals(60L, JMX.getAttribute(alice, "RequestsPerMin"));
            assertEquals(10L, JMX.getAttribute(alice, "Burst"));
            assertEquals(100000L, JMX.getAttribute(alice, "TokensPerMin"));
            assertEquals(30L, JMX.getAttribute(bob, "RequestsPerMin"), "RATE_LIMIT_PER_MIN is bob's default");
            assertEquals(0L, JMX.getAttribute(bob, "TokensPerMin"));
            assertFalse(JMX.queryNames(new ObjectName("org.apache.camel:context=caravan-" + gateway.port()
                    + ",type=rateLimits,*"), null).toString().contains("key-0123456789"), "a key never names an MBean");

            gateway.writeConfig(KEYS.replace("rate-limit-per-min: 60", "rate-limit-per-min: 120")
                    .replace("  - {key: bob-key-0123456789, name: bob}\n", ""));
            Await.value("alice's new limit", () -> attribute(alice, "RequestsPerMin"), v -> v.equals(120L),
                    Duration.ofSeconds(10));
            Await.value("bob gone", () -> JMX.isRegistered(bob), registered -> !registered, Duration.ofSeconds(10));
        }
    }

    private static ObjectName name(GatewayInstance gateway, String key) throws Exception {
        return new ObjectName("org.apache.camel:context=caravan-" + gateway.port() + ",type=rateLimits,name=\"" + key
                + "\"");
    }

    private static Object attribute(ObjectName name, String attribute) {
        try {
            return JMX.getAttribute(name, attribute);
        } catch (Exception e) {
            return e.toString();
        }
    }
}
