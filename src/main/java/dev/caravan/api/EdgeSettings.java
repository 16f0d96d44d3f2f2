package dev.caravan.api;

import org.apache.camel.CamelContext;

/**
 * The limits of the HTTP edge (application.properties {@code gateway.edge.*}): how long a connection may take to
 * send a request head and a body, how long it may sit idle between requests, how many connections are open at
 * once, and how many request-body bytes all requests in flight may hold together.
 */
record EdgeSettings(long headerTimeoutMs, long bodyTimeoutMs, long idleTimeoutMs, int maxConnections,
                    long maxInflightBodyBytes, long maxBodyBytes) {

    static EdgeSettings of(CamelContext camel) {
        return new EdgeSettings(
                number(camel, "gateway.edge.header-timeout-ms", 10_000),
                number(camel, "gateway.edge.body-timeout-ms", 60_000),
                number(camel, "gateway.edge.idle-timeout-ms", 60_000),
                (int) number(camel, "gateway.edge.max-connections", 10_000),
                number(camel, "gateway.edge.max-inflight-body-bytes", 256L * 1024 * 1024),
                number(camel, "camel.server.max-body-size", 8L * 1024 * 1024));
    }

    private static long number(CamelContext camel, String key, long fallback) {
        return camel.getPropertiesComponent().resolveProperty(key)
                .map(String::trim).filter(v -> !v.isEmpty()).map(Long::parseLong).orElse(fallback);
    }
}
