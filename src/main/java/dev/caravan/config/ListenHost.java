package dev.caravan.config;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The address the HTTP server binds: HOST when it is set; without it, every interface when keys guard the
 * gateway, and loopback only when auth is off, so a gateway started without keys is not open to the network by
 * accident. The second case is said loudly.
 */
public final class ListenHost {

    private static final Logger LOG = LoggerFactory.getLogger(ListenHost.class);
    private static final String AUTO = "auto";

    private ListenHost() {
    }

    /** @param configured camel.server.host as resolved from HOST; "auto" (or blank) when HOST is not set */
    public static String choose(String configured, boolean authOff) {
        if (configured != null && !configured.isBlank() && !AUTO.equalsIgnoreCase(configured.trim())) {
            return configured.trim();
        }
        if (authOff) {
            LOG.warn("No API keys are configured and HOST is not set: LISTENING ON 127.0.0.1 ONLY. Configure keys, or "
                    + "set HOST=0.0.0.0 to serve the network without auth");
            return "127.0.0.1";
        }
        return "0.0.0.0";
    }
}
