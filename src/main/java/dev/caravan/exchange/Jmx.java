package dev.caravan.exchange;

import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

import org.apache.camel.CamelContext;
import org.apache.camel.spi.ManagementAgent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Caravan's MBeans (lanes, circuits, rate limits, the gateway) sit in Camel's JMX domain beside the context's
 * routes, as {@code org.apache.camel:context=<name>,type=<type>,name="<name>"}, and are registered through Camel's
 * {@link ManagementAgent}: jconsole and Hawtio show them under the context, two gateways in one JVM (tests) keep
 * theirs apart by context name, and the agent unregisters them when the context stops. Classes annotated with
 * Camel's {@code @ManagedResource} become model MBeans there. Without JMX (camel.main.jmx-enabled=false) this
 * registers nothing.
 */
public final class Jmx {

    private static final Logger LOG = LoggerFactory.getLogger(Jmx.class);

    private Jmx() {
    }

    public static ObjectName name(CamelContext camel, String type, String name) throws MalformedObjectNameException {
        ManagementAgent agent = agent(camel);
        String domain = agent == null || agent.getMBeanObjectDomainName() == null ? "org.apache.camel"
                : agent.getMBeanObjectDomainName();
        return new ObjectName(domain + ":context=" + camel.getManagementName() + ",type=" + type + ",name="
                + ObjectName.quote(name));
    }

    /** Registers (or replaces) the MBean; a failure is logged, never thrown: JMX must not stop the gateway. */
    public static void register(CamelContext camel, Object mbean, String type, String name) {
        ManagementAgent agent = agent(camel);
        if (agent == null) {
            return;
        }
        try {
            ObjectName objectName = name(camel, type, name);
            if (agent.isRegistered(objectName)) {
                agent.unregister(objectName);
            }
            agent.register(mbean, objectName);
        } catch (Exception e) {
            LOG.warn("{} '{}' not in JMX: {}", type, name, e.toString());
        }
    }

    public static void unregister(CamelContext camel, String type, String name) {
        ManagementAgent agent = agent(camel);
        if (agent == null) {
            return;
        }
        try {
            agent.unregister(name(camel, type, name));
        } catch (Exception e) {
            LOG.debug("{} '{}' not removed from JMX: {}", type, name, e.toString());
        }
    }

    private static ManagementAgent agent(CamelContext camel) {
        return camel.getManagementStrategy() == null ? null : camel.getManagementStrategy().getManagementAgent();
    }
}
